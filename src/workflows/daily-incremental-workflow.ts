import { ApplicationFailure, CancellationScope, log, proxyActivities, sleep, workflowInfo } from '@temporalio/workflow';
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import type { Activities } from '../activities';
import type { ValidationCheck } from '../shared/backfill-results';
import { dailyInputSchema, dayBefore, type DailyInputRaw } from '../shared/daily-input';
import { DAILY_DEFAULTS, durationMs } from '../shared/daily-job';
import { parseInput } from './parse-input';

const retry = { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s', maximumAttempts: 20 };

const steps = proxyActivities<Activities>({ startToCloseTimeout: '2h', heartbeatTimeout: '20s', retry });

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
      'InvalidInput',
    );
  }
  return { day: dayBefore(nominal, input.timezone), nominalTime: nominal.toISOString() };
}

/**
 * Loads one day into the target's month partition: waits for the day's raw data to be complete (re-checking on
 * a durable timer until the job's deadline), then builds a shadow of the partition with that day replaced, checks
 * it, and swaps it in with one atomic `REPLACE PARTITION`.
 *
 * Durability: the readiness wait is a server-side timer, so it survives worker restarts; every step is an
 * idempotent activity (the shadow is rebuilt from scratch on retry, the swap can be repeated). Re-running a day
 * leaves exactly one copy of it and the other days untouched. A readiness deadline fails non-retryably
 * (`DailyNotReady`), leaving the target as it was; the run can simply be started again.
 */
export async function dailyIncrementalWorkflow(raw: DailyInputRaw): Promise<DailyResult> {
  const input = parseInput(dailyInputSchema, raw, 'dailyIncrementalWorkflow');
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
        'DailyNotReady',
      );
    }
    log.info('day not ready yet', { day, seen: readiness.seen });
    await sleep(pollMs);
  }

  const task = await steps.planDay({ job, day });
  try {
    await steps.buildDayShadow(task);
    const validation = await steps.validateDayShadow(task);
    await steps.swapDay(task);
    await steps.dropDayShadow(task);
    return {
      day,
      nominalTime,
      partition: task.partition.id,
      readinessChecks,
      sourceRows: validation.sourceRows,
      rowsWritten: validation.rowsWritten,
      checks: validation.checks,
    };
  } catch (err) {
    await CancellationScope.nonCancellable(() => steps.dropDayShadow(task));
    throw err;
  }
}
