import {
  log,
  patched,
  proxyActivities,
  proxyLocalActivities,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../../activities';
import type { BackfillInput, BackfillInputRaw } from '../../shared/backfill-input';
import type { BackfillPlan, BackfillSummary, PartitionPlan } from '../../shared/backfill-results';
import { initialProgress, type BackfillProgress, type PartitionProgress } from '../../shared/progress';
import { backfillPartitionsKey, backfillTargetKey, searchablePartitionIds } from '../../shared/search-attributes';
import { backupTableFor, shadowTableFor, writerTag } from '../../shared/writer-tables';
import { keepBackupFor } from '../engine/backup-retention-workflow';
import type { CarriedPartitions } from '../engine/carried-partitions';
import { PartitionLoop } from '../engine/partition-loop';
import { qualifiedName } from '../../shared/table-ref';
import type { PartitionTask } from '../../shared/partition-task';
import { continueOntoCurrentBuild } from '../engine/continue-onto-current-build';
import { shardedAggregateTask, shardedLocalSource, shardedLocalTarget } from '../../shared/shard-partitions';

const { planBackfill, dropShadow } = proxyActivities<Activities>({
  startToCloseTimeout: '2h',
  heartbeatTimeout: '20s',
  retry: { initialInterval: '1s', maximumInterval: '30s', maximumAttempts: 10 },
});

// A few system-table reads, and the input's defaults: in the worker, without a server round trip each.
const { checkClusterLoad, resolveBackfillInput } = proxyLocalActivities<Activities>({
  startToCloseTimeout: '1m',
  retry: { initialInterval: '1s', maximumInterval: '30s', maximumAttempts: 10 },
});

/**
 * What a backfill hands to its next run when it continues as new: its input, the plan and where it stands. Since
 * the partition loop, `partitions` holds every partition packed (the plan's and the progress's own lists are
 * then empty) and `backupNeeded` says whether a partition already started had live rows; a carry without them
 * (from a run before) holds both lists in full.
 */
export interface BackfillCarry {
  input: BackfillInput;
  plan: BackfillPlan;
  progress: BackfillProgress;
  partitions?: CarriedPartitions;
  backupNeeded?: boolean;
}

/**
 * Backfills the target partition by partition: plans the range, then runs one partition workflow per partition
 * (under the partition's lock id, see src/workflows/engine/partition-writer.ts), at most `parallelism` at a time, and
 * returns a summary. A range means the whole range: every partition of it that the source or the target has
 * rows in ends equal to the job's aggregation of the source, and a partition the source no longer has is
 * emptied. Partitions outside the range are never touched.
 *
 * Messages (src/shared/messages.ts): signals `pause {reason, now?}`, `resume`, `approve {partition}` and `reject
 * {partition}` (forwarded to that partition), update `setParallelism`, query `progress` (per partition: state,
 * current step, whom it waits for, rows, salt, timings; overall counts, rows/s, ETA, pause reasons). While
 * paused no partition and no step starts. Before starting each partition the cluster's load is checked against
 * `job.load`; over a threshold the backfill pauses itself, re-checks every `checkIntervalSeconds` on a durable
 * timer and resumes after `cooldownSeconds` below every threshold. A manual pause outlasts an automatic resume.
 *
 * Another job writing one of the partitions makes that partition wait (state `waiting`, `waitingFor` its
 * writer), or fail at once with `safety.whenPartitionBusy: fail`. A partition that would shrink past
 * `safety.maxShrink` waits for `approve`/`reject` unless the input says `allowShrink`.
 *
 * Rollback: each swapped partition's previous contents are kept in `<target>_backup_<writer>` (hard links) and
 * restored by `rollbackWorkflow`; a `backupRetentionWorkflow` drops that table after `safety.backupRetention`.
 *
 * Cancellation: the running partitions are cancelled (each drops its shadow; one already swapping completes).
 * The workflow ends Canceled; its `progress` query (still answered after closing) has phase `cancelled` and says
 * per partition which were `swapped` (the live table holds them) and which `cancelled`.
 *
 * Durability: the input's defaults, the plan and every child's completion are recorded in history, so after any
 * crash the backfill resumes with the partitions not yet swapped. When Temporal suggests it, the backfill waits
 * for its running partitions and handlers, then continues as new, carrying input, plan, progress and pause
 * state. A failed partition does not stop the others; the workflow then fails with every failed partition named,
 * and the summary in the failure's details.
 */
export async function backfillWorkflow(raw: BackfillInputRaw, carried?: BackfillCarry): Promise<BackfillSummary> {
  const input = carried?.input ?? (await resolveBackfillInput(raw));
  const { job, from, to } = input;
  const { workflowId, firstExecutionRunId } = workflowInfo();
  const tag = writerTag(workflowId, firstExecutionRunId);
  const loop = new PartitionLoop(carried?.progress ?? initialProgress(job.parallelism));
  const { progress } = loop;

  const plan = carried?.plan ?? (await planBackfill({ job, from, to, only: input.only, partitions: input.partitions }));
  // On a sharded cluster each shard keeps its replaced partitions in a backup of its local target.
  const backup = backupTableFor(shardedLocalTarget(plan) ?? plan.target, tag);
  const wanted = input.partitions && new Set(input.partitions);
  const listed = carried?.partitions ? loop.resume<PartitionPlan>(carried.partitions) : plan.partitions;
  const partitions = wanted ? listed.filter((p) => wanted.has(p.id)) : listed;
  if (!carried) {
    progress.phase = 'running';
    progress.target = qualifiedName(plan.target);
    progress.backup = qualifiedName(backup);
    progress.total = partitions.length;
    progress.partitions = partitions.map((p): PartitionProgress => ({
      id: p.id,
      state: 'pending',
      salt: p.salt,
      sourceRows: p.sourceRows,
    }));
    log.info('backfill planned', { target: progress.target, partitions: progress.total, from, to });
  }
  upsertSearchAttributes([
    { key: backfillTargetKey, value: qualifiedName(plan.target) },
    { key: backfillPartitionsKey, value: searchablePartitionIds(progress.partitions.map((p) => p.id)) },
  ]);

  const taskFor = (partition: PartitionPlan): PartitionTask => {
    const maxShrink = input.allowShrink ? undefined : job.safety.maxShrink;
    // On a sharded cluster one task per (partition, shard): the shard's local tables, its own shadow.
    const sharded =
      partition.shard !== undefined && patched('per-shard-partitions')
        ? shardedAggregateTask(
            { job, build: { kind: 'rebuild' }, sourceHasParts: plan.sourceHasParts, backup, maxShrink },
            plan,
            partition,
            tag,
          )
        : undefined;
    if (sharded) return sharded;
    return {
      job,
      source: plan.source,
      target: plan.target,
      shadow: shadowTableFor(plan.target, partition.id, tag),
      partition,
      build: { kind: 'rebuild' },
      sourceHasParts: plan.sourceHasParts,
      server: plan.server,
      backup,
      maxShrink: input.allowShrink ? undefined : job.safety.maxShrink,
    };
  };

  const planned = new Map(partitions.map((p) => [p.id, p]));
  // A backup exists only if a started partition had live rows (an empty one is not kept): only then is there a
  // table for the retention timer to drop.
  const backupNeeded = (): boolean =>
    carried?.backupNeeded === true ||
    progress.partitions.some((p) => p.state !== 'pending' && (planned.get(p.id)?.targetRows ?? 0) > 0);
  const keepBackup = async (): Promise<void> => {
    if (backupNeeded()) await keepBackupFor(backup, job.safety.backupRetention, plan.server);
  };
  await loop.run({
    partitions,
    taskFor,
    safety: job.safety,
    load: {
      thresholds: job.load,
      // On a sharded cluster the local tables' parts on every replica of every shard.
      sample: () =>
        checkClusterLoad({
          source: shardedLocalSource(plan) ?? plan.source,
          target: shardedLocalTarget(plan) ?? plan.target,
          server: plan.server,
        }),
    },
    target: qualifiedName(plan.target),
    continueAsNew: (carry) =>
      continueOntoCurrentBuild<typeof backfillWorkflow>(input, {
        input,
        plan: { ...plan, partitions: [] },
        ...carry,
        backupNeeded: backupNeeded(),
      }),
    afterCancel: async (cancelled) => {
      // Each shadow belongs to this backfill alone (its name carries the writer tag): safe to drop again.
      for (const partition of cancelled) await dropShadow(taskFor(partition));
      await keepBackup();
    },
  });
  await keepBackup();

  const summary = loop.close<BackfillSummary>({
    workflowId,
    target: progress.target ?? '',
    from,
    to,
    ...loop.outcome(),
    backup: progress.backup,
    ...(plan.unchanged ? { unchanged: plan.unchanged } : {}),
  });
  log.info('backfill completed', { partitions: summary.partitions.length, rowsWritten: summary.rowsWritten });
  return summary;
}
