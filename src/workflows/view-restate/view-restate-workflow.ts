import {
  CancellationScope,
  condition,
  isCancellation,
  log,
  patched,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
} from '@temporalio/workflow';
import type { Activities } from '../../activities';
import type { PartitionPlan } from '../../shared/backfill-results';
import type { ViewRestatePartitionTask } from '../../shared/partition-task';
import { confirmRestateUpdate } from '../../shared/messages';
import { pendingPartitions, type IngestionPauseProgress } from '../../shared/progress';
import { isoOfEpochSeconds } from '../../shared/epoch-seconds';
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
import { packPartitions } from '../engine/carried-partitions';
import { continueOntoCurrentBuild } from '../engine/continue-onto-current-build';
import { refuseIf, restateConfirmRefusal } from '../engine/operator-refusals';
import type { LoopCarry, PartitionLoop, PartitionLoopOptions } from '../engine/partition-loop';

const { planViewRestate, dropShadow } = proxyActivities<Activities>(JOB_ACTIVITY_OPTIONS);
const { resolveViewRestateInput } = proxyLocalActivities<Activities>(JOB_LOCAL_ACTIVITY_OPTIONS);

/** What a view restate hands to its next run when it continues as new: input, plan and its partitions. */
export interface ViewRestateCarry extends LoopCarry {
  input: ViewRestateInput;
  /** The plan without its partitions (they are carried packed, see {@link LoopCarry}). */
  plan: ViewRestatePlan;
  /**
   * Whether the restate's backups may hold rows (a planned partition had live rows at some level), read from the
   * full plan by the first run, so the run that ends keeps them for their retention. Absent in a carry from before
   * it was carried: such a run keeps no backup, as it did when recorded.
   */
  backupsHoldRows?: boolean;
}

/**
 * Restates an existing materialized view's target, partition by partition:
 * 1. plans: reads the view's stored query, its target and the server's profile, and refuses (by name, before
 *    anything is created) every partition of the run the live view can still write into (not entirely before the
 *    job's `writesEndBefore`), unless the job says `ingestion: paused-by-operator`: then those partitions are
 *    restated last, once the operator confirmed ingestion is paused (see `restateAroundConfirm`);
 * 2. rebuilds each partition through its one writer (src/workflows/engine/partition-writer.ts) with a
 *    `view-restate` build: the view's stored query over the source, filtered to the partition, into the writer's
 *    shadow; validated per target engine; the shrink guard (unless `allowShrink`); the live partition kept in
 *    `<target>_backup_<writer>`; `REPLACE PARTITION`; the ledger row. The live view is not touched. When the
 *    target feeds further views (a chain, in the plan's `chain`), each partition task carries every level: the
 *    levels are built from the level above's shadow, validated, kept and swapped deepest first in the same steps,
 *    and each level's backup is kept for its retention too (patch `view-restate-chain`). The partition's writer
 *    holds every level's partition lock meanwhile (src/workflows/engine/partition-writer.ts, patch
 *    `view-restate-level-locks`).
 *
 * Messages, load checks and cancellation are the partition loop's (src/workflows/engine/partition-loop.ts), as for
 * an aggregate backfill. Rollback: `rollbackWorkflow` restores the backup; a `backupRetentionWorkflow` drops it
 * after `safety.backupRetention`.
 *
 * Durability: the input, the plan and every partition's completion are in history; after a crash the restate
 * resumes with the partitions not yet swapped, each partition's swap being atomic and verified. When Temporal
 * suggests it, the restate continues as new carrying input, plan, progress and whether its backups hold rows (so
 * the run that ends keeps them for their retention).
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
    plan = await planViewRestate({ job, from: input.from, to: input.to, only: input.only });
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
  // A chain's backups are kept whenever any level had rows: a partition's backup step keeps every level's. A
  // continued run's plan has no partitions: the first run's answer is carried.
  const anyRows = carried
    ? carried.backupsHoldRows === true
    : plan.partitions.some((p) => p.targetRows > 0 || chain.some((l) => (l.targetRows[p.id] ?? 0) > 0));
  const keepBackup = async (): Promise<void> => {
    if (anyRows) await keepBackupFor(backup, job.safety.backupRetention);
    // Restates of a chain are new (they were refused before this patch): no history without it keeps level backups.
    if (chain.length > 0 && anyRows && patched('view-restate-chain')) {
      for (const level of chain) await keepBackupFor(backupTableFor(level.target, tag), job.safety.backupRetention);
    }
  };

  const options: PartitionLoopOptions<PartitionPlan> = {
    partitions,
    taskFor,
    ...jobLoopOptions(job, plan),
    continueAsNew: (carry) =>
      continueOntoCurrentBuild<typeof viewRestateWorkflow>(raw, {
        input,
        plan: { ...plan, partitions: [] },
        backupsHoldRows: anyRows,
        ...carry,
      }),
    afterCancel: async (cancelled) => {
      for (const partition of cancelled) await dropShadow(taskFor(partition));
      await keepBackup();
    },
  };
  if (plan.afterConfirm) await restateAroundConfirm(loop, options, plan, keepBackup);
  else await loop.run(options);
  await keepBackup();

  const summary = loop.close<ViewRestateSummary>({
    workflowId,
    target: qualifiedName(plan.target),
    view: qualifiedName(plan.view),
    from: input.from,
    to: input.to,
    ...loop.outcome(),
    backup: progress.backup,
    ...(plan.unchanged ? { unchanged: plan.unchanged } : {}),
    ...(progress.ingestion?.mayResumeAt
      ? { ingestionMayResumeAt: isoOfEpochSeconds(Math.floor(progress.ingestion.mayResumeAt / 1000)) }
      : {}),
  });
  log.info('view restate completed', { partitions: summary.partitions.length });
  return summary;
}

/**
 * The run of a restate with partitions the live view can still write into (`plan.afterConfirm`, `ingestion:
 * paused-by-operator`): the other partitions first, while ingestion runs; then it waits, for days if need be, for
 * the operator's `confirm` (an Update, refused when no confirm is awaited: `progress.ingestion.state`
 * `awaiting-confirm`); then those partitions; then `ingestion-may-resume` and a log line saying so. A run
 * continued as new carries every pending partition and `progress.ingestion`, and picks up where it stood.
 */
async function restateAroundConfirm(
  loop: PartitionLoop,
  options: PartitionLoopOptions<PartitionPlan>,
  plan: ViewRestatePlan,
  keepBackup: () => Promise<void>,
): Promise<void> {
  const { progress } = loop;
  const open = new Set(plan.afterConfirm);
  const ingestion: IngestionPauseProgress = (progress.ingestion ??= {
    state: 'restating-before-pause',
    source: qualifiedName(plan.source),
    partitions: [...open],
  });
  let confirmed = ingestion.state === 'restating';
  setHandler(
    confirmRestateUpdate,
    (): IngestionPauseProgress => {
      confirmed = true;
      return { ...ingestion, state: 'restating', confirmedAt: Date.now() };
    },
    { validator: () => refuseIf(restateConfirmRefusal(progress.phase, progress.ingestion, confirmed)) },
  );
  const all = options.partitions;
  const stage = (taken: (p: PartitionPlan) => boolean): PartitionLoopOptions<PartitionPlan> => ({
    ...options,
    partitions: all.filter(taken),
    // Every pending partition is carried, also those of the stage still to come.
    continueAsNew: (carry) =>
      options.continueAsNew({ ...carry, partitions: packPartitions(progress.partitions, [...all]) }),
  });
  const mayResume = (): void => {
    ingestion.state = 'ingestion-may-resume';
    ingestion.mayResumeAt = Date.now();
    log.info(`ingestion into ${ingestion.source} may resume`, { partitions: ingestion.partitions });
  };
  try {
    if (ingestion.state === 'restating-before-pause') {
      await loop.run(stage((p) => !open.has(p.id)));
      ingestion.state = 'awaiting-confirm';
      progress.phase = 'waiting';
      log.info('waiting for confirm: pause ingestion into the source', {
        source: ingestion.source,
        partitions: ingestion.partitions,
      });
      await condition(() => confirmed);
      ingestion.state = 'restating';
      ingestion.confirmedAt = Date.now();
      progress.phase = 'running';
    }
    await loop.run(stage((p) => open.has(p.id)));
  } catch (err) {
    // A cancel while waiting touched none of those partitions; one while restating them let the swaps under way end.
    if (isCancellation(err)) {
      if (ingestion.state === 'awaiting-confirm') {
        await CancellationScope.nonCancellable(keepBackup);
        progress.phase = 'cancelled';
      }
      mayResume();
    }
    throw err;
  }
  mayResume();
}
