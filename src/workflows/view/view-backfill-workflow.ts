import { log, patched, proxyActivities, proxyLocalActivities, sleep } from '@temporalio/workflow';
import type { Activities } from '../../activities';
import type { PartitionPlan } from '../../shared/backfill-results';
import { pendingPartitions } from '../../shared/progress';
import {
  type ViewBackfillInput,
  type ViewBackfillInputRaw,
  type ViewBackfillSummary,
  type ViewPlan,
} from '../../shared/view-input';
import { shardedViewTask, viewPartitionTask } from '../../shared/view-partition-task';
import { JOB_ACTIVITY_OPTIONS, JOB_LOCAL_ACTIVITY_OPTIONS, jobLoopOptions, startJobRun } from '../engine/job-run';
import type { LoopCarry } from '../engine/partition-loop';
import { qualifiedName } from '../../shared/table-ref';
import { isoOfEpochSeconds } from '../../shared/epoch-seconds';
import { continueOntoCurrentBuild } from '../engine/continue-onto-current-build';

const { planViewBackfill, createViewAndTarget, listViewPartitions } = proxyActivities<Activities>(JOB_ACTIVITY_OPTIONS);

const { resolveViewBackfillInput } = proxyLocalActivities<Activities>(JOB_LOCAL_ACTIVITY_OPTIONS);

/**
 * What a view backfill hands to its next run when it continues as new: input, plan (with the cutoff), progress
 * and its partitions, packed by the partition loop.
 */
export interface ViewBackfillCarry extends LoopCarry {
  input: ViewBackfillInput;
  plan: ViewPlan;
}

/**
 * Adds a materialized view to a table that already holds data (the ClickHouse guide's scenario 2), durably:
 * 1. plans: checks the job against source, target and an existing view before any DDL, and fixes the cutoff (a
 *    minute or so ahead), recorded in this workflow's history;
 * 2. creates the target if missing and the view with `WHERE <time> >= cutoff`: from then on the view writes every
 *    new row from the cutoff on;
 * 3. waits on a durable timer until the cutoff (plus `latenessSeconds`) has passed;
 * 4. fills everything before the cutoff, one target partition at a time (one `all` partition for an unpartitioned
 *    target), through the partition's one writer (src/workflows/engine/partition-writer.ts) with a `view-fill` build: the
 *    view's SELECT into the writer's `_v2` shadow, validated against the source, then appended to the live target
 *    with `MOVE PARTITION` (the live view writes the same partitions, so nothing is replaced).
 *
 * Partitions run through the shared partition loop (src/workflows/engine/partition-loop.ts), at most `parallelism` at a
 * time. Messages: `pause {reason, now?}` / `resume` (no partition and no step starts while paused), update
 * `setParallelism`, query `progress` (phase, cutoff, per partition state and step, rows/s). Before each partition
 * the cluster's load is checked against `job.load`; over a threshold the backfill pauses itself until the load
 * stayed below every threshold for `cooldownSeconds`.
 *
 * Durability: the input, the plan (with the cutoff) and every partition's completion are in history; after a
 * crash the workflow resumes where it stood. When Temporal suggests it, the backfill waits for its running
 * partitions and continues as new, carrying input, plan, partitions and progress (the view and the cutoff are not
 * created or waited for again). Each partition's rows land exactly once: the fill may be redone only
 * before its move was scheduled, and a retried move finds the shadow empty (see src/activities/view/view-steps.ts).
 * Cancellation cancels the running partitions (each drops its shadow; one already moving completes); the view
 * stays, and the partitions not moved are simply missing from the target.
 */
export async function viewBackfillWorkflow(
  raw: ViewBackfillInputRaw,
  carried?: ViewBackfillCarry,
): Promise<ViewBackfillSummary> {
  const input = carried?.input ?? (await resolveViewBackfillInput(raw));
  const { job } = input;
  const { workflowId, tag, loop, progress } = startJobRun(job.parallelism, carried?.progress);

  let plan: ViewPlan;
  let partitions: PartitionPlan[];
  if (carried) {
    plan = carried.plan;
    partitions = loop.resume(carried.partitions);
  } else {
    plan = await planViewBackfill({ job });
    progress.target = qualifiedName(plan.target);
    progress.cutoff = isoOfEpochSeconds(plan.cutoff);
    await createViewAndTarget({ job, cutoff: plan.cutoff });
    log.info('view in place; waiting for the cutoff', { cutoff: progress.cutoff });

    progress.phase = 'waiting';
    const waitMs = (plan.cutoff + job.latenessSeconds) * 1000 - Date.now();
    if (waitMs > 0) await sleep(waitMs);

    partitions = await listViewPartitions({ job, cutoff: plan.cutoff });
    progress.phase = 'running';
    progress.total = partitions.length;
    progress.partitions = pendingPartitions(partitions);
  }
  const { cutoff } = plan;

  await loop.run({
    partitions,
    // On a sharded cluster one task per (partition, shard): the shard's local tables, its own shadow and lock.
    taskFor: (partition) =>
      (partition.shard !== undefined && patched('per-shard-view-partitions')
        ? shardedViewTask(job, plan, partition, tag, cutoff)
        : undefined) ?? viewPartitionTask(job, plan, partition, tag, cutoff),
    ...jobLoopOptions(job, plan),
    continueAsNew: (carry) => continueOntoCurrentBuild<typeof viewBackfillWorkflow>(raw, { input, plan, ...carry }),
  });

  const summary = loop.close<ViewBackfillSummary>({
    workflowId,
    target: qualifiedName(plan.target),
    view: qualifiedName(plan.view),
    cutoff: isoOfEpochSeconds(cutoff),
    from: '',
    to: isoOfEpochSeconds(cutoff),
    ...loop.outcome(),
  });
  log.info('view backfill completed', { partitions: summary.partitions.length, cutoff: summary.cutoff });
  return summary;
}
