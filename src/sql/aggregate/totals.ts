import type { Statement } from '../../clickhouse/statement';
import type { PartitionBounds } from '../../shared/partitions';
import { dateRangeFilter, rangeParams } from './aggregation';
import { additiveMetrics, type AggregationShape } from './aggregation-shape';
import { renderAggregate, renderExpression } from '../engine/expression';
import { quoteAllowListedIdentifier as q } from '../engine/quote-identifier';
import { tableParam } from '../engine/table-param';
import type { TableRef } from '../../shared/table-ref';

/** A totals row: `rows`, `groups` and each `metric_<i>` (64-bit figures as strings, floats as numbers). */
export type Totals = Record<string, string | number>;

/** Column alias of the n-th additive metric's total in both totals queries. */
export const metricTotalAlias = (i: number): string => `metric_${i}`;

/**
 * Totals of one date range of the source: its row count; with `groups`, the number of distinct keys+dates (the
 * row count the target must have); with `metrics`, each additive metric's aggregate over all rows.
 */
export function selectSourceTotals(
  shape: AggregationShape,
  source: TableRef,
  range: Pick<PartitionBounds, 'start' | 'end'>,
  groups: boolean,
  metrics: boolean,
): Statement<Totals> {
  const src = tableParam('source', source);
  const columns = ['count() AS rows'];
  if (groups)
    columns.push(`uniqExact(${[...shape.keys.map(q), renderExpression(shape.dateExpr)].join(', ')}) AS groups`);
  if (metrics) {
    additiveMetrics(shape).forEach((m, i) => columns.push(`${renderAggregate(m.metric)} AS ${metricTotalAlias(i)}`));
  }
  return {
    query: `SELECT ${columns.join(', ')} FROM ${src.sql} WHERE ${dateRangeFilter(shape)}`,
    params: { ...src.params, ...rangeParams(range) },
  };
}

/** Totals of one partition of an aggregated table (shadow or target): rows and each additive metric's sum. */
export function selectPartitionTotals(
  shape: AggregationShape,
  table: TableRef,
  partitionId: string,
): Statement<Totals> {
  const t = tableParam('table', table);
  const columns = [
    'count() AS rows',
    ...additiveMetrics(shape).map((m, i) => `sum(${q(m.name)}) AS ${metricTotalAlias(i)}`),
  ];
  return {
    query: `SELECT ${columns.join(', ')} FROM ${t.sql} WHERE _partition_id = {partition_id:String}`,
    params: { ...t.params, partition_id: partitionId },
  };
}
