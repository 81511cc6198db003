import { qualifiedName, type TableRef } from './table-ref';

/**
 * The workflow id of the one writer of a target partition: `partition:<database>.<table>/<partition id>`, from the
 * resolved target, so `events_daily` and `default.events_daily` name the same lock. Every job kind starts its
 * partition work under this id with a policy that refuses a second running workflow, so Temporal itself
 * guarantees at most one writer per partition at a time. On a sharded cluster the writer of one shard's part of
 * the partition (`shard`, its `shard_num`) holds `partition:<database>.<local table>/<partition id>@<shard>`; every
 * other id is unchanged, so recorded histories replay.
 */
export function partitionLockId(target: TableRef, partitionId: string, shard?: number): string {
  return `partition:${qualifiedName(target)}/${shardedPartitionId(partitionId, shard)}`;
}

/** `<partition id>@<shard>` for one shard's part of a partition; the partition id itself without a shard. */
export function shardedPartitionId(partitionId: string, shard?: number): string {
  return shard === undefined ? partitionId : `${partitionId}@${shard}`;
}
