import type { BackfillPlan, PartitionPlan } from './backfill-results';
import type { AggregatePartitionTask } from './partition-task';
import { shadowTableFor } from './writer-tables';
import { shardedPartitionId } from './partition-lock';
import type { ServerProfile, ShardHosts } from './server-profile';
import type { TableRef } from './table-ref';

/** Planned rows of one `(partition, shard)`, by its id `<partition id>@<shard>`. */
export type ShardRows = Map<string, { sourceRows: number; targetRows: number }>;

/**
 * The plan's partitions on a sharded cluster, one per `(partition, shard)`: id `<partition id>@<shard>` (what
 * `status` lists, `--only failed` retries and the lock carries), `shard` the shard's number. With `rows` (the plan
 * reads them per shard through the Distributed tables), each carries its own shard's source and target rows (0
 * where the shard holds none), which the estimate and the backup decision read; without, the partition's rows
 * over every shard.
 */
export function partitionsPerShard<P extends PartitionPlan>(
  partitions: P[],
  shards: ShardHosts[],
  rows?: ShardRows,
): (P & Required<Pick<PartitionPlan, 'shard'>>)[] {
  return partitions.flatMap((p) =>
    shards.map((s) => {
      const id = shardedPartitionId(p.id, s.num);
      const own = rows && (rows.get(id) ?? { sourceRows: 0, targetRows: 0 });
      return { ...p, ...own, id, shard: s.num };
    }),
  );
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

/**
 * One `(partition, shard)`'s task of a sharded plan (see {@link shardTaskOf}), with what every task of the job
 * shares (`common`): its shadow `<local target>_v2_<partition>_s<shard>_<writer tag>`, one per shard, since every
 * shard holds every shadow (DDL reaches the whole cluster) and a shard's cleanup must not drop another's. The one
 * place the backfill and its dry run build such a task. Undefined for a partition of any other plan.
 */
export function shardedAggregateTask(
  common: Pick<AggregatePartitionTask, 'job' | 'build' | 'sourceHasParts' | 'backup' | 'maxShrink'>,
  plan: Pick<BackfillPlan, 'source' | 'target' | 'server'>,
  partition: PartitionPlan,
  tag: string,
): AggregatePartitionTask | undefined {
  const shard = shardTaskOf(plan, partition);
  if (!shard) return undefined;
  return {
    ...common,
    source: shard.source,
    target: shard.target,
    shadow: shadowTableFor(shard.target, `${shard.partition.id}_s${partition.shard}`, tag),
    partition: shard.partition,
    server: shard.server,
  };
}

/**
 * What a rollback restores for an id `<partition id>@<shard>` of a sharded backfill (its progress lists them): the
 * local table behind the Distributed `target`, the partition's own id and the profile narrowed to that shard.
 * Undefined for any other id or server.
 */
export function shardRestoreOf(
  server: ServerProfile | undefined,
  target: TableRef,
  id: string,
): { target: TableRef; partitionId: string; server: ServerProfile } | undefined {
  const m = /^(\d+)@(\d+)$/.exec(id);
  const local = server?.sharding?.distributed[`${target.database}.${target.name}`]?.local;
  const shard = m && server?.sharding?.shards.find((s) => s.num === Number(m[2]));
  if (!m || !server || !local || !shard) return undefined;
  return { target: local, partitionId: m[1], server: { ...server, shard } };
}

/** The local table behind a sharded plan's Distributed source; undefined for any other plan. */
export function shardedLocalSource(plan: Pick<BackfillPlan, 'source' | 'server'>): TableRef | undefined {
  return plan.server?.sharding?.distributed[`${plan.source.database}.${plan.source.name}`]?.local;
}
