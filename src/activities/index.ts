import type { ActivityDeps } from './engine/deps';
import { withFailureBoundary } from './engine/failure-boundary';
import { checkClusterLoad } from './engine/cluster-load';
import { partitionSteps } from './engine/partition-steps';
import { planBackfill } from './aggregate/plan-backfill';
import { importPlanning } from './import/plan-import';
import { viewPlanning } from './view/plan-view';
import { viewRestatePlanning } from './view-restate/plan-view-restate';
import { viewSnapshotSteps } from './snapshot/view-snapshot';
import { dailySteps } from './daily/daily-steps';
import { referenceValidation } from './service/reference-validation';
import { clickHouseDoctor } from './service/doctor';
import { inputResolvers } from './service/resolve-input';
import { describeBackfillActivities } from './aggregate/describe-backfill';
import { ledgerActivities } from './engine/ledger';
import { testDayActivities } from './aggregate/test-day';

/** Builds the worker's activities around injected dependencies (one ClickHouse per worker process). */
export function createActivities(deps: ActivityDeps) {
  return withFailureBoundary({
    planBackfill: planBackfill(deps),
    checkClusterLoad: checkClusterLoad(deps),
    ...partitionSteps(deps),
    ...viewPlanning(deps),
    ...viewSnapshotSteps(deps),
    ...importPlanning(deps),
    ...viewRestatePlanning(deps),
    ...dailySteps(deps),
    ...referenceValidation(deps),
    ...clickHouseDoctor(deps),
    ...inputResolvers(deps),
    ...describeBackfillActivities(deps),
    ...testDayActivities(deps),
    ...ledgerActivities(deps),
  });
}

export type Activities = ReturnType<typeof createActivities>;
export type { ActivityDeps, Logger, StepPoint } from './engine/deps';
