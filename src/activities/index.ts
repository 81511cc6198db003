import { Context } from '@temporalio/activity';
import { MetricName } from '../shared/backfill-metrics';
import { FailureType } from '../shared/failure-types';
import type { ActivityDeps } from './deps';
import { toActivityFailure } from './errors';
import { checkClusterLoad } from './cluster-load';
import { seedDemoEvents } from './demo-events';
import { partitionSteps } from './partition-steps';
import { planBackfill } from './plan-backfill';
import { importPlanning } from './plan-import';
import { viewPlanning } from './plan-view';
import { viewSnapshotSteps } from './view-snapshot';
import { pypiExample } from './pypi-example';
import { dailySteps } from './daily-steps';
import { referenceValidation } from './reference-validation';
import { clickHouseDoctor } from './doctor';
import { inputResolvers } from './resolve-input';
import { describeBackfillActivities } from './describe-backfill';
import { ledgerActivities } from './ledger';
import { testDayActivities } from './test-day';

type AsyncFn = (...args: never[]) => Promise<unknown>;

/**
 * Makes every activity decide retryable vs non-retryable at the point its error leaves it, and counts the
 * validation failures (`ch_backfill_validation_failures`, per activity type) as they leave.
 */
function withFailureBoundary<T extends Record<string, AsyncFn>>(activities: T): T {
  return Object.fromEntries(
    Object.entries(activities).map(([name, fn]) => [
      name,
      async (...args: never[]) => {
        try {
          return await fn(...args);
        } catch (err) {
          const failure = toActivityFailure(err, Context.current().info.attempt);
          const type = (failure as { type?: unknown }).type;
          if (type === FailureType.ValidationMismatch || type === FailureType.ReferenceMismatch) {
            Context.current()
              .metricMeter.createCounter(MetricName.validationFailures, 'failures', 'Validations that found a mismatch')
              .add(1);
          }
          throw failure;
        }
      },
    ]),
  ) as T;
}

/** Builds the worker's activities around injected dependencies (one ClickHouse per worker process). */
export function createActivities(deps: ActivityDeps) {
  return withFailureBoundary({
    planBackfill: planBackfill(deps),
    checkClusterLoad: checkClusterLoad(deps),
    seedDemoEvents: seedDemoEvents(deps),
    ...partitionSteps(deps),
    ...viewPlanning(deps),
    ...viewSnapshotSteps(deps),
    ...importPlanning(deps),
    ...pypiExample(deps),
    ...dailySteps(deps),
    ...referenceValidation(deps),
    ...clickHouseDoctor(deps),
    ...inputResolvers(),
    ...describeBackfillActivities(deps),
    ...testDayActivities(deps),
    ...ledgerActivities(deps),
  });
}

export type Activities = ReturnType<typeof createActivities>;
export type { ActivityDeps, Logger, StepPoint } from './deps';
