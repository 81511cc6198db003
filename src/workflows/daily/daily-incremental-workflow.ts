import {
  ApplicationFailure,
  log,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  patched,
  sleep,
  workflowInfo,
} from '@temporalio/workflow';
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import type { Activities } from '../../activities';
import { FailureType } from '../../shared/failure-types';
import type { ValidationCheck } from '../../shared/backfill-results';
import { type DailyInputRaw } from '../../shared/daily-input';
import { dayBefore } from '../../shared/days';
import { DAILY_DEFAULTS } from '../../shared/daily-defaults';
import { durationMs } from '../../shared/durations';
import { shadowTableFor, writerTag } from '../../shared/writer-tables';
import { innermostMessage } from '../../shared/failure-message';
import { partitionStepSignal, progressQuery } from '../../shared/messages';
import { initialProgress, type PartitionProgress } from '../../shared/progress';
import { applyStepReport } from '../engine/partition-progress';
import { startPartitionWriter } from '../engine/partition-writer';
import { qualifiedName } from '../../shared/table-ref';
import { runDayPerShard } from './daily-shards';

const retry = { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s', maximumAttempts: 20 };

const { resolveDailyInput } = proxyLocalActivities<Activities>({ startToCloseTimeout: '1m', retry });

const check = proxyActivities<Activities>({ startToCloseTimeout: '5m', retry: { ...retry, maximumAttempts: 5 } });

/** Set by Temporal on every workflow a Schedule starts: the action's nominal (scheduled) time. */
export const SCHEDULED_START_TIME = defineSearchAttributeKey(
  'TemporalScheduledStartTime',
  SearchAttributeType.DATETIME,
);

export interface DailyResult {
  day: string;
  /** The schedule's nominal time the day was derived from, when started by a schedule without a date. */
  nominalTime?: string;
  partition: string;
  readinessChecks: number;
  sourceRows: number;
  rowsWritten: number;
  checks: ValidationCheck[];
}

/** The day to load: the explicit date, or the day before the schedule's nominal time in the given time zone. */
function dayToLoad(input: { date?: string; timezone: string }): { day: string; nominalTime?: string } {
  if (input.date) return { day: input.date };
  const nominal = workflowInfo().typedSearchAttributes.get(SCHEDULED_START_TIME);
  if (!nominal) {
    throw ApplicationFailure.nonRetryable(
      'no date given and not started by a Schedule (no TemporalScheduledStartTime): pass date (YYYY-MM-DD)',
      FailureType.InvalidInput,
    );
  }
  return { day: dayBefore(nominal, input.timezone), nominalTime: nominal.toISOString() };
}

/**
 * Loads one day into the target's partition: waits for the day's raw data to be complete (re-checking on a durable
 * timer until the job's deadline), then hands the day to the partition workflow, under the partition's lock like
 * every writer: a shadow of the live partition with that day deleted and re-aggregated, checked against the source
 * (the day) and the live table (the other days), and swapped in with one atomic `REPLACE PARTITION`. A partition
 * another job is writing is waited for (or fails at once with `safety.whenPartitionBusy: fail`).
 *
 * Query `progress` answers like a backfill's, with the one partition: `ch-backfill status <id>` shows whom a
 * waiting run waits for, or a shrink awaiting `approve` (sent to the partition workflow's id).
 *
 * Durability: the readiness wait and a busy partition's wait are server-side timers, so they survive worker
 * restarts; the partition workflow's steps are idempotent. Re-running a day leaves exactly one copy of it and the
 * other days untouched. A readiness deadline fails non-retryably (`DailyNotReady`), leaving the target as it was;
 * the run can simply be started again.
 */
export async function dailyIncrementalWorkflow(raw: DailyInputRaw): Promise<DailyResult> {
  const progress = initialProgress(1);
  setHandler(progressQuery, () => progress);
  // The entry of the partition writer running now (on a sharded cluster the shards run one after another).
  let current = (): PartitionProgress => progress.partitions[0];
  setHandler(partitionStepSignal, (report) => applyStepReport(current(), report));
  const input = await resolveDailyInput(raw);
  const job = input.job;
  const { day, nominalTime } = dayToLoad(input);
  const daily = job.daily ?? DAILY_DEFAULTS;
  const pollMs = durationMs(daily.pollInterval) ?? 0;
  const deadlineAt = Date.now() + (durationMs(daily.deadline) ?? 0);

  let readinessChecks = 0;
  for (;;) {
    const readiness = await check.checkDailyReadiness({ job, day });
    readinessChecks++;
    if (readiness.ready) break;
    if (Date.now() + pollMs > deadlineAt) {
      throw ApplicationFailure.nonRetryable(
        `day ${day} is not ready: "${readiness.check}" was still false (${readiness.seen}) after ` +
          `${readinessChecks} checks, at the deadline of ${daily.deadline}; the target is unchanged, start the run again`,
        FailureType.DailyNotReady,
      );
    }
    log.info('day not ready yet', { day, seen: readiness.seen });
    await sleep(pollMs);
  }

  const { source, target, partition, server, shards, sourceHasParts } = await check.planDay({ job, day });
  progress.target = qualifiedName(target);
  if (shards?.length && patched('per-shard-days')) {
    const { workflowId, firstExecutionRunId } = workflowInfo();
    const tag = writerTag(workflowId, firstExecutionRunId);
    const entries = shards.map((p): PartitionProgress => ({
      id: p.id,
      state: 'pending',
      salt: p.salt,
      sourceRows: p.sourceRows,
    }));
    Object.assign(progress, { partitions: entries, total: entries.length, phase: 'running' });
    const ran = await runDayPerShard(
      { job, day, input, source, target, server, shards, sourceHasParts, tag, progress },
      (e) => {
        current = () => e;
      },
    );
    return { day, nominalTime, partition: partition.id, readinessChecks, ...ran };
  }
  const entry: PartitionProgress = { id: partition.id, state: 'running', salt: partition.salt, sourceRows: 0 };
  progress.partitions = [entry];
  progress.total = 1;
  progress.phase = 'running';
  const { workflowId, firstExecutionRunId } = workflowInfo();
  const writer = await startPartitionWriter(
    {
      job,
      source,
      target,
      shadow: shadowTableFor(target, partition.id, writerTag(workflowId, firstExecutionRunId)),
      partition,
      build: { kind: 'day', day },
      server,
      maxShrink: input.allowShrink ? undefined : job.safety.maxShrink,
    },
    job.safety,
    (holder) => {
      if (entry.waitingFor !== holder) log.info('partition busy: waiting', { partition: partition.id, holder });
      Object.assign(entry, { state: 'waiting', waitingFor: holder, step: undefined });
    },
  );
  Object.assign(entry, { state: 'running', waitingFor: undefined, step: 'insert', startedAt: Date.now() });
  let result;
  try {
    result = await writer.result();
  } catch (err) {
    Object.assign(entry, { state: 'failed', step: undefined, error: innermostMessage(err), finishedAt: Date.now() });
    progress.failed = 1;
    progress.phase = 'failed';
    throw err;
  }
  Object.assign(entry, { state: 'swapped', step: undefined, result, finishedAt: Date.now() });
  Object.assign(progress, { done: 1, rowsRead: result.rowsRead, rowsWritten: result.rowsWritten, phase: 'completed' });
  return {
    day,
    nominalTime,
    partition: partition.id,
    readinessChecks,
    sourceRows: result.rowsRead,
    rowsWritten: result.rowsWritten,
    checks: result.checks,
  };
}
