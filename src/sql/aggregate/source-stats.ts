import type { Statement } from '../../clickhouse/statement';
import type { PartitionBounds } from '../../shared/partitions';
import { partitionFunction, type AggregationShape } from './aggregation-shape';
import { dateRangeFilter, rangeParams } from './aggregation';
import { renderExpression } from '../engine/expression';
import { quoteAllowListedIdentifier as q } from '../engine/quote-identifier';
import { tableParam } from '../engine/table-param';
import type { TableRef } from '../../shared/table-ref';

/** How many counters the heavy-hitter sketch keeps: its over-estimate is at most rows / this. */
const TOP_KEY_SKETCH_SIZE = 10_000;

/**
 * Per partition of the range that has source rows: its ID, its row count and the row count of its largest key.
 * The largest key comes from a heavy-hitter sketch (`approx_top_count`), one pass and bounded memory; it may
 * over-estimate slightly, which only makes the salt a little larger, never the result different.
 */
export function selectSourcePartitionStats(
  shape: AggregationShape,
  source: TableRef,
  range: Pick<PartitionBounds, 'start' | 'end'>,
): Statement<{ id: string; rows: string; max_rows_per_key: string }> {
  const src = tableParam('source', source);
  // Hashing the key first makes the sketch several times cheaper; a collision can only over-estimate.
  const keyHash = `cityHash64(${shape.keys.map(q).join(', ')})`;
  return {
    query: [
      `SELECT toString(${partitionFunction(shape.granularity)}(${renderExpression(shape.dateExpr)})) AS id,`,
      `  count() AS rows,`,
      `  approx_top_count(1, ${TOP_KEY_SKETCH_SIZE})(${keyHash})[1].2 AS max_rows_per_key`,
      `FROM ${src.sql}`,
      `WHERE ${dateRangeFilter(shape)}`,
      `GROUP BY id ORDER BY id`,
    ].join('\n'),
    params: { ...src.params, ...rangeParams(range) },
  };
}
