import { log, patched, proxyActivities, proxyLocalActivities } from '@temporalio/workflow';
import type { Activities } from '../../activities';
import {
  type ImportBatch,
  type ImportInput,
  type ImportInputRaw,
  type ImportPlan,
  type ImportSummary,
} from '../../shared/import-input';
import { formatCheckpoint, importBatchTask, shardedImportTask } from '../../shared/import-batch-task';
import { pendingPartitions } from '../../shared/progress';
import { filesProgress } from '../../shared/import-files-progress';
import { JOB_ACTIVITY_OPTIONS, JOB_LOCAL_ACTIVITY_OPTIONS, jobLoopOptions, startJobRun } from '../engine/job-run';
import type { LoopCarry } from '../engine/partition-loop';
import { qualifiedName } from '../../shared/table-ref';
import { continueOntoCurrentBuild } from '../engine/continue-onto-current-build';

const { planImport } = proxyActivities<Activities>(JOB_ACTIVITY_OPTIONS);

const { resolveImportInput } = proxyLocalActivities<Activities>(JOB_LOCAL_ACTIVITY_OPTIONS);

/**
 * What an import hands to its next run when it continues as new: input, plan (with the checkpoint), progress and
 * its batches, packed by the partition loop.
 */
export interface ImportCarry extends LoopCarry {
  input: ImportInput;
  plan: ImportPlan;
}

/**
 * Loads history into a live table and every materialized-view target fed from it while ingestion goes on (the
 * ClickHouse guide's scenario 1), durably:
 * 1. plans: checks the job before any DDL (main table, history, checkpoint, every view fed from the main table
 *    and its `TO` table, found in `system.tables`), fixes the checkpoint (`min(<time>)` of the live table unless
 *    given) and lists the batches: per partition of the main table, the history rows before the checkpoint,
 *    newest first; all of it recorded in this workflow's history;
 * 2. runs each batch through its partition's one writer (src/workflows/engine/partition-writer.ts, under the main table's
 *    partition lock) with build `import-batch` and swap `move-all`: `_v2` duplicates of the main table and of every
 *    view target, copies of the views reading the main duplicate and writing the target duplicates; the batch's
 *    history rows inserted into the main duplicate (the view copies fill the others); validated; then every
 *    duplicate's partitions moved into its live table, added to what ingestion writes there; duplicates dropped.
 *
 * Batches run through the shared partition loop (src/workflows/engine/partition-loop.ts), at most `parallelism` at a time.
 * Messages: `pause {reason, now?}` / `resume`, update `setParallelism`, query `progress` (checkpoint, per batch state
 * and step; for files, files and bytes done of the total and the running batches' files, derived when asked). Before each batch the cluster's load is checked against `job.load`.
 *
 * Durability: the input, the plan (with the checkpoint) and every batch's completion are in history; after a crash
 * the workflow resumes where it stood, and continues as new when Temporal suggests it. Each batch's rows land once
 * in every table: the fill truncates every duplicate first and is never redone once the move was scheduled, and a
 * retried move moves only what the duplicates still hold (see src/activities/import/import-steps.ts). Cancellation cancels
 * the running batches (each drops its duplicates; one already moving completes); the batches moved stay.
 */
export async function importWorkflow(raw: ImportInputRaw, carried?: ImportCarry): Promise<ImportSummary> {
  const input = carried?.input ?? (await resolveImportInput(raw));
  const { job } = input;
  const { workflowId, tag, loop, progress } = startJobRun(job.parallelism, carried?.progress);

  let plan: ImportPlan;
  let batches: ImportBatch[];
  if (carried) {
    plan = carried.plan;
    batches = loop.resume(carried.partitions);
  } else {
    plan = await planImport({ job, ...(input.only ? { only: input.only } : {}) });
    progress.target = qualifiedName(plan.target);
    progress.checkpoint = formatCheckpoint(plan.checkpoint);
    progress.phase = 'running';
    progress.total = plan.batches.length;
    progress.partitions = pendingPartitions(plan.batches);
    log.info('import planned', { checkpoint: progress.checkpoint, batches: plan.batches.length });
    batches = plan.batches;
  }

  if (plan.files) loop.extendProgress((p) => ({ files: filesProgress(plan.batches, p.partitions) }));

  await loop.run({
    partitions: batches,
    // On a sharded cluster one task per (batch, shard): the shard's local tables, its own duplicates.
    taskFor: (batch: ImportBatch) =>
      (batch.shard !== undefined && patched('per-shard-import-batches')
        ? shardedImportTask(job, plan, batch, tag)
        : undefined) ?? importBatchTask(job, plan, batch, tag),
    ...jobLoopOptions(job, plan),
    continueAsNew: (carry) => continueOntoCurrentBuild<typeof importWorkflow>(raw, { input, plan, ...carry }),
  });

  const checkpoint = formatCheckpoint(plan.checkpoint);
  const summary = loop.close<ImportSummary>({
    workflowId,
    target: qualifiedName(plan.target),
    checkpoint,
    tables: [qualifiedName(plan.target), ...plan.targets.map((t) => qualifiedName(t.table))],
    from: '',
    to: checkpoint,
    ...loop.outcome(),
    ...(plan.files ? { changedFiles: plan.files.changed.map((c) => c.path) } : {}),
  });
  log.info('import completed', { batches: summary.partitions.length, checkpoint });
  return summary;
}
