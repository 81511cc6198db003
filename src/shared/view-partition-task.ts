import type { ServerProfile } from './server-profile';
import type { PartitionPlan } from './backfill-results';
import type { ViewJob } from './job-spec';
import { shadowTableFor } from './writer-tables';
import type { TableRef } from './table-ref';
import type { ViewPartitionTask } from './partition-task';
import { shardTaskOf } from './shard-partitions';

/**
 * A view job's task for one partition's writer: the view's SELECT over `tables.source` (its rows before `cutoff`, or
 * all of them without one) into the writer's shadow of `tables.target`, appended to the target; its statements are
 * built for `tables.server`, the server the plan found.
 */
export function viewPartitionTask(
  job: ViewJob,
  tables: { source: TableRef; target: TableRef; server?: ServerProfile; columns?: string[] },
  partition: PartitionPlan,
  tag: string,
  cutoff: number | undefined,
): ViewPartitionTask {
  return {
    job,
    source: tables.source,
    target: tables.target,
    shadow: shadowTableFor(tables.target, partition.id, tag),
    partition,
    build: { kind: 'view-fill', cutoff, ...(tables.columns ? { columns: tables.columns } : {}) },
    swap: 'append',
    server: tables.server,
  };
}

/**
 * One `(partition, shard)`'s task of a sharded view job (its partition `<partition>@<shard>`, see
 * src/shared/shard-partitions.ts): the view's SELECT over the shard's local source rows before `cutoff` (the rows that
 * shard holds, which the live view on that shard's local source would have seen) into a shadow of the local target
 * named `<local target>_v2_<partition>_s<shard>_<writer tag>` (every shard holds every shadow, DDL reaching the whole
 * cluster, so a shard's cleanup must not drop another's), appended to that shard's local target, under the
 * partition's own id, with the profile narrowed to that shard (its statements go through that shard's client).
 * Undefined for a partition of any other plan.
 */
export function shardedViewTask(
  job: ViewJob,
  plan: { source: TableRef; target: TableRef; server?: ServerProfile; columns?: string[] },
  partition: PartitionPlan,
  tag: string,
  cutoff: number | undefined,
): ViewPartitionTask | undefined {
  const shard = shardTaskOf(plan, partition);
  if (!shard) return undefined;
  const task = viewPartitionTask(job, { ...plan, ...shard }, shard.partition, tag, cutoff);
  return { ...task, shadow: shadowTableFor(shard.target, `${shard.partition.id}_s${partition.shard}`, tag) };
}
