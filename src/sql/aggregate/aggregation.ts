import type { Statement } from '../../clickhouse/statement';
import type { PartitionBounds } from '../../shared/partitions';
import { outputColumns, partitionFunction, type AggregationShape } from './aggregation-shape';
import { renderAggregate, renderExpression, renderMergeAggregate, renderStateAggregate } from '../engine/expression';
import { quoteAllowListedIdentifier as q } from '../engine/quote-identifier';
import { tableParam } from '../engine/table-param';
import type { TableRef } from '../../shared/table-ref';

const INNER_DATE = '__date';
const innerMetric = (i: number): string => `__m${i}`;

/** `<date expression> >= {range_start:Date} AND <date expression> < {range_end:Date}` */
export function dateRangeFilter(shape: Pick<AggregationShape, 'dateExpr'>): string {
  const date = renderExpression(shape.dateExpr);
  return `${date} >= {range_start:Date} AND ${date} < {range_end:Date}`;
}

export function rangeParams(range: Pick<PartitionBounds, 'start' | 'end'>): Record<string, string> {
  return { range_start: range.start, range_end: range.end };
}

/**
 * The aggregation of one date range of the source. With `salt` > 1 it has two levels: the inner one groups by
 * keys, date and `rand() % salt` with `-State` combinators, so no single group holds more than about a chunk of
 * a skewed key's rows; the outer one merges the states per key and date, which is exact for every aggregate.
 * With `salt` = 1 it is a plain single-level GROUP BY. Inner columns carry `__` aliases so that output names
 * never shadow source columns.
 */
export function selectAggregation(
  shape: AggregationShape,
  source: TableRef,
  range: Pick<PartitionBounds, 'start' | 'end'>,
  salt: number,
): Statement<Record<string, unknown>> {
  const src = tableParam('source', source);
  const keys = shape.keys.map(q);
  const salted = salt > 1;
  const inner = [
    ...keys,
    `${renderExpression(shape.dateExpr)} AS ${q(INNER_DATE)}`,
    ...shape.metrics.map(
      (m, i) => `${salted ? renderStateAggregate(m.metric) : renderAggregate(m.metric)} AS ${q(innerMetric(i))}`,
    ),
  ];
  const innerGroup = [...keys, q(INNER_DATE), ...(salted ? ['rand() % {salt:UInt32}'] : [])];
  const outer = [
    ...keys,
    `${q(INNER_DATE)} AS ${q(shape.dateColumn)}`,
    ...shape.metrics.map(
      (m, i) => `${salted ? renderMergeAggregate(m.metric, innerMetric(i)) : q(innerMetric(i))} AS ${q(m.name)}`,
    ),
  ];
  const query = [
    `SELECT ${outer.join(', ')}`,
    `FROM (SELECT ${inner.join(', ')}`,
    `  FROM ${src.sql}`,
    `  WHERE ${dateRangeFilter(shape)}`,
    `  GROUP BY ${innerGroup.join(', ')})`,
    ...(salted ? [`GROUP BY ${[...keys, q(INNER_DATE)].join(', ')}`] : []),
  ].join('\n');
  return { query, params: { ...src.params, ...rangeParams(range), ...(salted ? { salt } : {}) } };
}

/** Inserts the aggregation of one partition into a table (the shadow), naming every column. */
export function insertAggregation(
  shape: AggregationShape,
  source: TableRef,
  into: TableRef,
  range: Pick<PartitionBounds, 'start' | 'end'>,
  salt: number,
): Statement {
  const dst = tableParam('into', into);
  const select = selectAggregation(shape, source, range, salt);
  return {
    query: `INSERT INTO ${dst.sql} (${outputColumns(shape).map(q).join(', ')})\n${select.query}`,
    params: { ...dst.params, ...select.params },
  };
}

/**
 * Creates the target when missing: MergeTree, partitioned by the month (or day) of the date, ordered by keys
 * and date, with the column types ClickHouse infers for the aggregation (`EMPTY AS SELECT` reads no data).
 */
export function createTargetTable(shape: AggregationShape, source: TableRef, target: TableRef): Statement {
  const dst = tableParam('target', target);
  const select = selectAggregation(shape, source, { start: '1970-01-01', end: '1970-01-02' }, 1);
  const order = [...shape.keys, shape.dateColumn].map(q).join(', ');
  return {
    query: [
      `CREATE TABLE IF NOT EXISTS ${dst.sql}`,
      `ENGINE = MergeTree`,
      `PARTITION BY ${partitionFunction(shape.granularity)}(${q(shape.dateColumn)})`,
      `ORDER BY (${order})`,
      `EMPTY AS ${select.query}`,
    ].join('\n'),
    params: { ...dst.params, ...select.params },
  };
}

/** The date expression alone over the source: DESCRIBE it to learn its type without the metrics in the way. */
export function selectDateExpression(shape: AggregationShape, source: TableRef): Statement<Record<string, unknown>> {
  const src = tableParam('source', source);
  return {
    query: `SELECT ${renderExpression(shape.dateExpr)} AS ${q(shape.dateColumn)} FROM ${src.sql}`,
    params: src.params,
  };
}

/** One metric alone over the source: DESCRIBE it to learn whether ClickHouse accepts it, and its type. */
export function selectMetric(
  metric: AggregationShape['metrics'][number],
  source: TableRef,
): Statement<Record<string, unknown>> {
  const src = tableParam('source', source);
  return { query: `SELECT ${renderAggregate(metric.metric)} AS ${q(metric.name)} FROM ${src.sql}`, params: src.params };
}
