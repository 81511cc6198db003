import type { Statement } from '../../clickhouse/statement';
import type { PartitionBounds } from '../../shared/partitions';
import { dateRangeFilter, rangeParams } from './aggregation';
import { rowCountMetric, type AggregationShape } from './aggregation-shape';
import { quoteAllowListedIdentifier as q } from '../engine/quote-identifier';
import { tableParam } from '../engine/table-param';
import type { TableRef } from '../../shared/table-ref';

/**
 * The rows of an aggregated table in a fixed order, so the sample is the same every time: those built from the most
 * source rows first when the job counts them (the aggregation shows most there), then by a hash of the keys.
 */
const sampleOrder = (shape: AggregationShape): string => {
  const keys = shape.keys.map(q).join(', ');
  const counter = rowCountMetric(shape);
  return `${counter ? `${q(counter)} DESC, ` : ''}cityHash64(${keys}), ${keys}`;
};

/** `limit` rows of an aggregated table, in the sample's order. */
export function selectSampleRows(
  shape: AggregationShape,
  table: TableRef,
  limit: number,
): Statement<Record<string, unknown>> {
  const t = tableParam('table', table);
  return {
    query: `SELECT * FROM ${t.sql} ORDER BY ${sampleOrder(shape)} LIMIT {limit:UInt32}`,
    params: { ...t.params, limit },
  };
}

/**
 * Up to `perKey` source rows of the range for each key of the sample {@link selectSampleRows} picks from `table`
 * (the rows those output rows were aggregated from), ordered by key and time.
 */
export function selectSourceRowsOfSample(
  shape: AggregationShape,
  source: TableRef,
  table: TableRef,
  range: Pick<PartitionBounds, 'start' | 'end'>,
  timeColumn: string,
  sample: number,
  perKey: number,
): Statement<Record<string, unknown>> {
  const src = tableParam('source', source);
  const t = tableParam('table', table);
  const keys = shape.keys.map(q).join(', ');
  return {
    query: [
      `SELECT * FROM ${src.sql}`,
      `WHERE ${dateRangeFilter(shape)}`,
      `  AND (${keys}) IN (SELECT ${keys} FROM ${t.sql} ORDER BY ${sampleOrder(shape)} LIMIT {sample:UInt32})`,
      `ORDER BY ${keys}, ${q(timeColumn)} LIMIT {per_key:UInt32} BY ${keys}`,
    ].join('\n'),
    params: { ...src.params, ...t.params, ...rangeParams(range), sample, per_key: perKey },
  };
}
