import type { Statement } from '../../clickhouse/statement';
import type { Readiness } from '../../shared/daily-job';
import { additiveMetrics, type AggregationShape } from '../aggregate/aggregation-shape';
import { quoteAllowListedIdentifier as q } from '../engine/quote-identifier';
import { tableParam } from '../engine/table-param';
import { metricTotalAlias, type Totals } from '../aggregate/totals';
import type { TableRef } from '../../shared/table-ref';

/** Deletes one day's rows from a (shadow) table, waiting for the mutation to finish. */
export function deleteDay(table: TableRef, dateColumn: string, day: string): Statement {
  const t = tableParam('table', table);
  return {
    query: `ALTER TABLE ${t.sql} DELETE WHERE ${q(dateColumn)} = {day:Date} SETTINGS mutations_sync = 2`,
    params: { ...t.params, day },
  };
}

/**
 * Totals of one partition of an aggregated table, split into the given day and the other days: rows and each
 * additive metric's sum, as `day_*` and `other_*` columns.
 */
export function selectDaySplitTotals(
  shape: AggregationShape,
  table: TableRef,
  partitionId: string,
  day: string,
): Statement<Totals> {
  const t = tableParam('table', table);
  const isDay = `${q(shape.dateColumn)} = {day:Date}`;
  const columns = (prefix: string, cond: string) => [
    `countIf(${cond}) AS ${prefix}_rows`,
    ...additiveMetrics(shape).map((m, i) => `sumIf(${q(m.name)}, ${cond}) AS ${prefix}_${metricTotalAlias(i)}`),
  ];
  return {
    query: [
      `SELECT ${[...columns('day', isDay), ...columns('other', `NOT (${isDay})`)].join(', ')}`,
      `FROM ${t.sql} WHERE _partition_id = {partition_id:String}`,
    ].join('\n'),
    params: { ...t.params, partition_id: partitionId, day },
  } satisfies Statement;
}

/** `ready` (0/1) and what was seen, for a structured readiness check of the day before `next_day`. */
export function selectReadiness(
  readiness: Readiness,
  source: TableRef,
  timeColumn: string,
  nextDay: string,
): Statement<{ ready: number | boolean; seen: string }> {
  if (readiness.kind === 'next-day-rows') {
    const src = tableParam('source', source);
    return {
      query: [
        `SELECT count() > 0 AS ready, 'rows at or after ' || toString({next_day:Date}) AS seen`,
        `FROM (SELECT 1 FROM ${src.sql} WHERE ${q(timeColumn)} >= toDateTime({next_day:Date}) LIMIT 1)`,
      ].join('\n'),
      params: { ...src.params, next_day: nextDay },
    };
  }
  const [db, name] = readiness.table.includes('.') ? readiness.table.split('.') : [source.database, readiness.table];
  const wm = tableParam('watermark', { database: db, name });
  const col = q(readiness.column);
  return {
    query: [
      `SELECT ifNull(toDateTime(max(${col})) >= toDateTime({next_day:Date}), 0) AS ready,`,
      `  'watermark ' || toString(max(${col})) AS seen`,
      `FROM ${wm.sql}`,
    ].join('\n'),
    params: { ...wm.params, next_day: nextDay },
  };
}
