import {
  ApplicationFailure,
  CancellationScope,
  allHandlersFinished,
  condition,
  continueAsNew,
  isCancellation,
  log,
  metricMeter,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  sleep,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { BackfillInput, BackfillInputRaw } from '../shared/backfill-input';
import { loadPausedSeconds } from '../shared/backfill-metrics';
import type {
  BackfillPlan,
  BackfillSummary,
  PartitionPlan,
  PartitionResult,
  PartitionTask,
  TableRef,
} from '../shared/backfill-results';
import { innermostMessage } from '../shared/failure-message';
import { FailureType } from '../shared/failure-types';
import { assessLoad } from '../shared/load-thresholds';
import {
  approveSignal,
  partitionStepSignal,
  pauseSignal,
  progressQuery,
  rejectSignal,
  resumeSignal,
  setParallelismUpdate,
  type PauseRequest,
} from '../shared/messages';
import { initialProgress, type BackfillProgress, type PartitionProgress } from '../shared/progress';
import { backfillPartitionsKey, backfillTargetKey } from '../shared/search-attributes';
import { backupTableFor, shadowTableFor, writerTag } from '../shared/writer-tables';
import { BackfillPause } from './backfill-pause';
import { keepBackupFor } from './backup-retention-workflow';
import { applyStepReport } from './partition-progress';
import { startPartitionWriter, type PartitionWriter } from './partition-writer';

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

/** What a backfill hands to its next run when it continues as new: its input, the plan and where it stands. */
export interface BackfillCarry {
  input: BackfillInput;
  plan: BackfillPlan;
  progress: BackfillProgress;
}

const qualified = (t: TableRef): string => `${t.database}.${t.name}`;

/** Progress with its rates as of now (the query's answer). */
function withRates(progress: BackfillProgress): BackfillProgress {
  const elapsedS = (Date.now() - progress.startedAt) / 1000;
  const rowsPerSecond = elapsedS > 0 ? Math.round(progress.rowsRead / elapsedS) : 0;
  const remaining = progress.partitions
    .filter((p) => p.state !== 'swapped' && p.state !== 'failed')
    .reduce((n, p) => n + p.sourceRows, 0);
  const paused = progress.pause?.manual !== undefined || progress.pause?.load !== undefined;
  return {
    ...progress,
    phase: progress.phase === 'running' && paused ? 'paused' : progress.phase,
    rowsPerSecond,
    etaMs: rowsPerSecond > 0 ? Math.round((remaining / rowsPerSecond) * 1000) : undefined,
  };
}

/** A done partition's result as carried into the next run: the passing checks are summarised away. */
function compact(result: PartitionResult): PartitionResult {
  return { ...result, checks: result.checks.filter((c) => !c.ok) };
}

/**
 * Backfills the target partition by partition: plans the range, then runs one partition workflow per partition
 * (under the partition's lock id, see src/workflows/partition-writer.ts), at most `parallelism` at a time, and
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
  const progress = carried?.progress ?? initialProgress(job.parallelism);
  const running = new Map<string, PartitionWriter>();
  const pause = new BackfillPause((progress.pause ??= {}), (request: PauseRequest | undefined) => {
    for (const child of running.values()) {
      // A child may finish between our deciding and its receiving: then the signal has nothing to do.
      const sent = request ? child.signal(pauseSignal, request) : child.signal(resumeSignal);
      sent.catch(() => undefined);
    }
  });

  setHandler(progressQuery, () => withRates(progress));
  setHandler(pauseSignal, (request = {}) =>
    pause.set('manual', request.reason ?? 'paused by an operator', request.now),
  );
  setHandler(resumeSignal, () => pause.set('manual', undefined));
  const forward = (decision: typeof approveSignal) => (ref?: { partition: string }) => {
    if (ref)
      running
        .get(ref.partition)
        ?.signal(decision)
        .catch(() => undefined);
  };
  setHandler(approveSignal, forward(approveSignal));
  setHandler(rejectSignal, forward(rejectSignal));
  setHandler(
    setParallelismUpdate,
    (parallelism) => {
      const previous = progress.parallelism;
      progress.parallelism = parallelism;
      return previous;
    },
    {
      validator: (parallelism) => {
        if (!Number.isInteger(parallelism) || parallelism < 1 || parallelism > 64) {
          throw new Error('parallelism must be a whole number from 1 to 64');
        }
      },
    },
  );
  const byId = new Map<string, PartitionProgress>();
  setHandler(partitionStepSignal, (report) => applyStepReport(byId.get(report.partition), report));

  const plan = carried?.plan ?? (await planBackfill({ job, from, to, only: input.only, partitions: input.partitions }));
  const backup = backupTableFor(plan.target, tag);
  const wanted = input.partitions && new Set(input.partitions);
  const partitions = wanted ? plan.partitions.filter((p) => wanted.has(p.id)) : plan.partitions;
  upsertSearchAttributes([
    { key: backfillTargetKey, value: qualified(plan.target) },
    { key: backfillPartitionsKey, value: partitions.map((p) => p.id) },
  ]);
  if (!carried) {
    progress.phase = 'running';
    progress.target = qualified(plan.target);
    progress.backup = qualified(backup);
    progress.total = partitions.length;
    progress.partitions = partitions.map((p): PartitionProgress => ({
      id: p.id,
      state: 'pending',
      salt: p.salt,
      sourceRows: p.sourceRows,
    }));
    log.info('backfill planned', { target: progress.target, partitions: progress.total, from, to });
  }
  for (const entry of progress.partitions) byId.set(entry.id, entry);

  const taskFor = (partition: PartitionPlan): PartitionTask => ({
    job,
    source: plan.source,
    target: plan.target,
    shadow: shadowTableFor(plan.target, partition.id, tag),
    partition,
    build: { kind: 'rebuild' },
    backup,
    maxShrink: input.allowShrink ? undefined : job.safety.maxShrink,
  });

  /** Pauses for load while the cluster is over a threshold; returns once it stayed below for the cool-down. */
  const waitForCalm = async (): Promise<void> => {
    if (!job.load.enabled) return;
    const sample = () => checkClusterLoad({ source: plan.source, target: plan.target });
    let verdict = assessLoad(await sample(), job.load);
    if (!verdict.overloaded) return;
    let calmSince: number | undefined;
    // Every wait below is paused for load, the cool-down included: counted against the signals last over.
    const pausedSeconds = loadPausedSeconds(metricMeter, qualified(plan.target));
    let signals: string[] = [];
    for (;;) {
      if (verdict.overloaded) {
        calmSince = undefined;
        signals = verdict.signals ?? [];
        progress.lastLoadReason = verdict.reason;
        if (progress.pause?.load !== verdict.reason) log.warn('paused for cluster load', { reason: verdict.reason });
        pause.set('load', verdict.reason);
      } else {
        calmSince ??= Date.now();
        if (Date.now() - calmSince >= job.load.cooldownSeconds * 1000) break;
      }
      const asleepSince = Date.now();
      await sleep(job.load.checkIntervalSeconds * 1000);
      for (const signal of signals) pausedSeconds.add(Date.now() - asleepSince, signal);
      verdict = assessLoad(await sample(), job.load);
    }
    log.info('cluster load back below thresholds: resuming', { cooldownSeconds: job.load.cooldownSeconds });
    pause.set('load', undefined);
  };

  // Slots are taken before the child is started: `running` only learns of a child once its start resolved, and
  // the loop must not start another partition in between.
  let active = 0;
  const runPartition = async (partition: PartitionPlan, entry: PartitionProgress): Promise<void> => {
    active++;
    entry.state = 'running';
    entry.startedAt = Date.now();
    entry.step = 'prepare';
    entry.stepStartedAt = entry.startedAt;
    try {
      const child = await startPartitionWriter(taskFor(partition), job.safety, (holder) => {
        entry.state = 'waiting';
        entry.waitingFor = holder;
        entry.step = undefined;
      });
      entry.state = 'running';
      entry.waitingFor = undefined;
      entry.step ??= 'prepare';
      running.set(partition.id, child);
      if (pause.paused) child.signal(pauseSignal, { reason: pause.reason }).catch(() => undefined);
      entry.result = await child.result();
      entry.state = 'swapped';
      progress.done++;
      progress.rowsRead += entry.result.rowsRead;
      progress.rowsWritten += entry.result.rowsWritten;
      if (entry.result.emptied) {
        log.info('partition emptied: source has no rows', {
          partition: partition.id,
          removed: entry.result.rowsBefore,
        });
      } else log.info('partition done', { partition: partition.id, rows: entry.result.rowsWritten });
    } catch (err) {
      if (isCancellation(err) && CancellationScope.current().consideredCancelled) {
        entry.state = 'cancelled';
      } else {
        entry.state = 'failed';
        entry.error = innermostMessage(err);
        progress.failed++;
        log.warn('partition failed', { partition: partition.id, error: entry.error });
      }
    } finally {
      entry.step = undefined;
      entry.waitingFor = undefined;
      entry.shrink = undefined;
      entry.finishedAt = Date.now();
      running.delete(partition.id);
      active--;
    }
  };

  const inFlight: Promise<void>[] = [];
  const planned = new Map(partitions.map((p) => [p.id, p]));
  // A backup exists only if a started partition had live rows (an empty one is not kept): only then is there a
  // table for the retention timer to drop.
  const keepBackup = async (): Promise<void> => {
    const kept = progress.partitions.some((p) => p.state !== 'pending' && (planned.get(p.id)?.targetRows ?? 0) > 0);
    if (kept) await keepBackupFor(backup, job.safety.backupRetention);
  };
  try {
    for (const entry of progress.partitions) {
      if (entry.state !== 'pending') continue;
      const ready = () => active < progress.parallelism && !pause.paused;
      await condition(ready);
      await waitForCalm();
      await condition(ready);
      if (workflowInfo().continueAsNewSuggested) {
        await condition(() => active === 0);
        await Promise.all(inFlight);
        await condition(allHandlersFinished);
        progress.continuedAsNew++;
        for (const p of progress.partitions) if (p.result) p.result = compact(p.result);
        log.info('continuing as new', { done: progress.done, total: progress.total });
        return await continueAsNew<typeof backfillWorkflow>(input, { input, plan: { ...plan, partitions }, progress });
      }
      const partition = planned.get(entry.id);
      if (partition) inFlight.push(runPartition(partition, entry));
    }
    await Promise.all(inFlight);
  } catch (err) {
    if (!isCancellation(err)) throw err;
    await CancellationScope.nonCancellable(async () => {
      await Promise.all(inFlight);
      for (const entry of progress.partitions) {
        if (entry.state === 'running' || entry.state === 'validated') entry.state = 'cancelled';
        if (entry.state !== 'cancelled') continue;
        // Each shadow belongs to this backfill alone (its name carries the writer tag): safe to drop again.
        const partition = planned.get(entry.id);
        if (partition) await dropShadow(taskFor(partition));
      }
      await keepBackup();
    });
    progress.phase = 'cancelled';
    log.warn('backfill cancelled', {
      swapped: progress.partitions.filter((p) => p.state === 'swapped').map((p) => p.id),
    });
    throw err;
  }
  await keepBackup();

  const results = progress.partitions.flatMap((p) => (p.result ? [p.result] : []));
  const summary: BackfillSummary = {
    workflowId,
    target: progress.target ?? '',
    from,
    to,
    partitions: results,
    failed: progress.partitions.flatMap((p) => (p.error ? [{ partition: p.id, error: p.error }] : [])),
    rowsRead: progress.rowsRead,
    rowsWritten: progress.rowsWritten,
    elapsedMs: Date.now() - progress.startedAt,
    backup: progress.backup,
  };
  if (summary.failed.length > 0) {
    progress.phase = 'failed';
    throw ApplicationFailure.create({
      message:
        `${summary.failed.length} of ${progress.total} partitions failed: ` +
        summary.failed.map((f) => `${f.partition} (${f.error})`).join('; '),
      type: FailureType.PartitionsFailed,
      nonRetryable: true,
      details: [summary],
    });
  }
  progress.phase = 'completed';
  log.info('backfill completed', { partitions: results.length, rowsWritten: summary.rowsWritten });
  return summary;
}
