import { log, patched, proxyActivities, proxyLocalActivities } from '@temporalio/workflow';
import type { Activities } from '../../activities';
import type { PartitionPlan } from '../../shared/backfill-results';
import type { ViewRestatePartitionTask } from '../../shared/partition-task';
import { pendingPartitions } from '../../shared/progress';
import { qualifiedName } from '../../shared/table-ref';
import type {
  ViewRestateInput,
  ViewRestateInputRaw,
  ViewRestatePlan,
  ViewRestateSummary,
} from '../../shared/view-restate-input';
import { backupTableFor, shadowTableFor } from '../../shared/writer-tables';
import { keepBackupFor } from '../engine/backup-retention-workflow';
import { JOB_ACTIVITY_OPTIONS, JOB_LOCAL_ACTIVITY_OPTIONS, jobLoopOptions, startJobRun } from '../engine/job-run';
import type { LoopCarry } from '../engine/partition-loop';
import { continueOntoCurrentBuild } from '../engine/continue-onto-current-build';

const { planViewRestate, dropShadow } = proxyActivities<Activities>(JOB_ACTIVITY_OPTIONS);
const { resolveViewRestateInput } = proxyLocalActivities<Activities>(JOB_LOCAL_ACTIVITY_OPTIONS);

/** What a view restate hands to its next run when it continues as new: input, plan and its partitions. */
export interface ViewRestateCarry extends LoopCarry {
  input: ViewRestateInput;
  plan: ViewRestatePlan;
}

/**
 * Restates an existing materialized view's target, partition by partition:
 * 1. plans: reads the view's stored query, its target and the server's profile, and refuses (by name, before
 *    anything is created) every partition of the run the live view can still write into (not entirely before the
 *    job's `writesEndBefore`);
 * 2. rebuilds each partition through its one writer (src/workflows/engine/partition-writer.ts) with a
 *    `view-restate` build: the view's stored query over the source, filtered to the partition, into the writer's
 *    shadow; validated per target engine; the shrink guard (unless `allowShrink`); the live partition kept in
 *    `<target>_backup_<writer>`; `REPLACE PARTITION`; the ledger row. The live view is not touched. When the
 *    target feeds further views (a chain, in the plan's `chain`), each partition task carries every level: the
 *    levels are built from the level above's shadow, validated, kept and swapped deepest first in the same steps,
 *    and each level's backup is kept for its retention too (patch `view-restate-chain`).
 *
 * Messages, load checks and cancellation are the partition loop's (src/workflows/engine/partition-loop.ts), as for
 * an aggregate backfill. Rollback: `rollbackWorkflow` restores the backup; a `backupRetentionWorkflow` drops it
 * after `safety.backupRetention`.
 *
 * Durability: the input, the plan and every partition's completion are in history; after a crash the restate
 * resumes with the partitions not yet swapped, each partition's swap being atomic and verified. When Temporal
 * suggests it, the restate continues as new carrying input, plan and progress.
 */
export async function viewRestateWorkflow(
  raw: ViewRestateInputRaw,
  carried?: ViewRestateCarry,
): Promise<ViewRestateSummary> {
  const input = carried?.input ?? (await resolveViewRestateInput(raw));
  const { job } = input;
  const { workflowId, tag, loop, progress } = startJobRun(job.parallelism, carried?.progress);

  let plan: ViewRestatePlan;
  let partitions: PartitionPlan[];
  if (carried) {
    plan = carried.plan;
    partitions = loop.resume(carried.partitions);
  } else {
    plan = await planViewRestate({ job, from: input.from, to: input.to });
    partitions = plan.partitions;
    progress.phase = 'running';
    progress.target = qualifiedName(plan.target);
    progress.total = partitions.length;
    progress.partitions = pendingPartitions(partitions);
  }
  const backup = backupTableFor(plan.target, tag);
  progress.backup = qualifiedName(backup);
  const chain = plan.chain ?? [];
  if (chain.length > 0) {
    progress.chain = chain.map((l) => ({
      target: qualifiedName(l.target),
      backup: qualifiedName(backupTableFor(l.target, tag)),
    }));
  }

  const taskFor = (partition: PartitionPlan): ViewRestatePartitionTask => ({
    job,
    source: plan.source,
    target: plan.target,
    shadow: shadowTableFor(plan.target, partition.id, tag),
    partition,
    build: plan.build,
    swap: 'replace',
    server: plan.server,
    backup,
    maxShrink: input.allowShrink ? undefined : job.safety.maxShrink,
    ...(chain.length > 0
      ? {
          chain: chain.map((l) => ({
            target: l.target,
            shadow: shadowTableFor(l.target, partition.id, tag),
            backup: backupTableFor(l.target, tag),
            build: l.build,
          })),
        }
      : {}),
  });
  const keepBackup = async (): Promise<void> => {
    // A chain's backups are kept whenever any level had rows: a partition's backup step keeps every level's.
    const anyRows = plan.partitions.some((p) => p.targetRows > 0 || chain.some((l) => (l.targetRows[p.id] ?? 0) > 0));
    if (anyRows) await keepBackupFor(backup, job.safety.backupRetention);
    // Restates of a chain are new (they were refused before this patch): no history without it keeps level backups.
    if (chain.length > 0 && anyRows && patched('view-restate-chain')) {
      for (const level of chain) await keepBackupFor(backupTableFor(level.target, tag), job.safety.backupRetention);
    }
  };

  await loop.run({
    partitions,
    taskFor,
    ...jobLoopOptions(job, plan),
    continueAsNew: (carry) =>
      continueOntoCurrentBuild<typeof viewRestateWorkflow>(raw, { input, plan: { ...plan, partitions: [] }, ...carry }),
    afterCancel: async (cancelled) => {
      for (const partition of cancelled) await dropShadow(taskFor(partition));
      await keepBackup();
    },
  });
  await keepBackup();

  const summary = loop.close<ViewRestateSummary>({
    workflowId,
    target: qualifiedName(plan.target),
    view: qualifiedName(plan.view),
    from: input.from,
    to: input.to,
    ...loop.outcome(),
    backup: progress.backup,
  });
  log.info('view restate completed', { partitions: summary.partitions.length });
  return summary;
}
