import type { ActivityDeps } from './deps';
import { withFailureBoundary } from './failure-boundary';
import { checkClusterLoad } from './cluster-load';
import { partitionSteps } from './partition-steps';
import { planBackfill } from './plan-backfill';
import { importPlanning } from './plan-import';
import { viewPlanning } from './plan-view';
import { viewSnapshotSteps } from './view-snapshot';
import { dailySteps } from './daily-steps';
import { referenceValidation } from './reference-validation';
import { clickHouseDoctor } from './doctor';
import { inputResolvers } from './resolve-input';
import { describeBackfillActivities } from './describe-backfill';
import { ledgerActivities } from './ledger';
import { testDayActivities } from './test-day';

/** Builds the worker's activities around injected dependencies (one ClickHouse per worker process). */
export function createActivities(deps: ActivityDeps) {
  return withFailureBoundary({
    planBackfill: planBackfill(deps),
    checkClusterLoad: checkClusterLoad(deps),
    ...partitionSteps(deps),
    ...viewPlanning(deps),
    ...viewSnapshotSteps(deps),
    ...importPlanning(deps),
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
