import type { Statement } from '../../clickhouse/statement';
import type { PartitionBounds } from '../../shared/partitions';
import type { TableRef } from '../../shared/table-ref';
import { partitionFunction, type AggregationShape } from './aggregation-shape';
import { dateRangeFilter, rangeParams } from './aggregation';
import { renderExpression } from '../engine/expression';
import { tableParam } from '../engine/table-param';

/**
 * On a sharded cluster: the source's rows of each partition of the range per shard, read through its
 * `Distributed` table and grouped by the shard that holds them (`_shard_num`, the `shard_num` of
 * `system.clusters`, which the profile's shards carry).
 */
export function selectSourceRowsPerShard(
  shape: AggregationShape,
  source: TableRef,
  range: Pick<PartitionBounds, 'start' | 'end'>,
): Statement<{ id: string; shard: string; rows: string }> {
  const src = tableParam('source', source);
  return {
    query: [
      `SELECT toString(${partitionFunction(shape.granularity)}(${renderExpression(shape.dateExpr)})) AS id,`,
      '  toString(_shard_num) AS shard, toString(count()) AS rows',
      `FROM ${src.sql}`,
      `WHERE ${dateRangeFilter(shape)}`,
      'GROUP BY id, shard ORDER BY id, shard',
    ].join('\n'),
    params: { ...src.params, ...rangeParams(range) },
  };
}

/**
 * On a sharded cluster: the target's live rows of each partition between `firstId` and `lastId` per shard, read
 * through its `Distributed` table (`_partition_id` of the local table, `_shard_num` of the shard holding it).
 */
export function selectTargetRowsPerShard(
  target: TableRef,
  firstId: string,
  lastId: string,
): Statement<{ id: string; shard: string; rows: string }> {
  const t = tableParam('table', target);
  return {
    query: [
      `SELECT _partition_id AS id, toString(_shard_num) AS shard, toString(count()) AS rows FROM ${t.sql}`,
      'WHERE length(_partition_id) = length({first:String}) AND _partition_id BETWEEN {first:String} AND {last:String}',
      'GROUP BY id, shard ORDER BY id, shard',
    ].join('\n'),
    params: { ...t.params, first: firstId, last: lastId },
  };
}
