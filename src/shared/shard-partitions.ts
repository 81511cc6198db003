import type { BackfillPlan, PartitionPlan } from './backfill-results';
import { shardedPartitionId } from './partition-lock';
import type { ServerProfile, ShardHosts } from './server-profile';
import type { TableRef } from './table-ref';

/**
 * The plan's partitions on a sharded cluster, one per `(partition, shard)`: id `<partition id>@<shard>` (what
 * `status` lists, `--only failed` retries and the lock carries), `shard` the shard's number. Each keeps the
 * partition's planned rows over every shard (the plan reads them through the Distributed tables).
 */
export function partitionsPerShard(partitions: PartitionPlan[], shards: ShardHosts[]): PartitionPlan[] {
  return partitions.flatMap((p) => shards.map((s) => ({ ...p, id: shardedPartitionId(p.id, s.num), shard: s.num })));
}

/** What one shard's partition task works on: the local tables, the partition's own id, the profile with its shard. */
export interface ShardTask {
  source: TableRef;
  target: TableRef;
  partition: PartitionPlan;
  server: ServerProfile;
}

/**
 * The task parts of one `(partition, shard)` of a sharded plan (see {@link partitionsPerShard}): the local source and
 * target behind the plan's Distributed tables, the partition under its own id (without `@<shard>`), and the plan's
 * profile narrowed to the shard its statements reach. Undefined for a partition of any other plan.
 */
export function shardTaskOf(
  plan: Pick<BackfillPlan, 'source' | 'target' | 'server'>,
  partition: PartitionPlan,
): ShardTask | undefined {
  const sharding = plan.server?.sharding;
  if (partition.shard === undefined || !plan.server || !sharding) return undefined;
  const shard = sharding.shards.find((s) => s.num === partition.shard);
  const local = (table: TableRef) => sharding.distributed[`${table.database}.${table.name}`]?.local;
  const source = local(plan.source);
  const target = local(plan.target);
  if (!shard || !source || !target) return undefined;
  const { shard: _num, ...rest } = partition;
  return {
    source,
    target,
    partition: { ...rest, id: partition.id.slice(0, partition.id.lastIndexOf('@')) },
    server: { ...plan.server, shard },
  };
}

/** The local table behind a sharded plan's Distributed target; undefined for any other plan. */
export function shardedLocalTarget(plan: Pick<BackfillPlan, 'target' | 'server'>): TableRef | undefined {
  return plan.server?.sharding?.distributed[`${plan.target.database}.${plan.target.name}`]?.local;
}
