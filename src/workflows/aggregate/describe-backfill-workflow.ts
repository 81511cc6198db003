import { proxyActivities, proxyLocalActivities, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../../activities';
import type { TestDayResult } from '../../activities/aggregate/test-day';
import type { BackfillDescription } from '../../shared/backfill-description';
import type { BackfillInputRaw } from '../../shared/backfill-input';
import type { TestDayWorkflowInputRaw } from '../../shared/plan-input';
import { writerTag } from '../../shared/writer-tables';

const { describeBackfill, testBackfillDay } = proxyActivities<Activities>({
  startToCloseTimeout: '1h',
  heartbeatTimeout: '20s',
  // A description reports what it found; a failure is the answer (a refusal, or ClickHouse unreachable).
  retry: { maximumAttempts: 1 },
});

const { dropTestDayTable } = proxyActivities<Activities>({
  startToCloseTimeout: '5m',
  retry: { initialInterval: '1s', maximumInterval: '30s', maximumAttempts: 10 },
});

const { resolveBackfillInput, resolveTestDayInput } = proxyLocalActivities<Activities>({
  startToCloseTimeout: '1m',
  retry: { maximumAttempts: 1 },
});

/**
 * `ch-backfill plan` (and `start --dry-run`) of an aggregate job, run on a worker: in embedded mode only the worker
 * may open the data directory. The input is a backfill's, resolved by the same step as `backfillWorkflow`'s, and the
 * description runs the same checks as its plan (the same refusals), then lists what a run started now would do:
 * see the `describeBackfill` activity.
 *
 * Durability: read-only, not retried, creates nothing; a lost run is simply asked again.
 */
export async function describeBackfillWorkflow(raw: BackfillInputRaw): Promise<BackfillDescription> {
  const { job, from, to, only, partitions, retryOf } = await resolveBackfillInput(raw);
  return describeBackfill({ job, from, to, only, partitions, retryOf });
}

/**
 * `ch-backfill plan --test-day`: aggregates one day into a scratch table, checks it, samples it and drops it (see the
 * `testBackfillDay` activity). The scratch table is named after this workflow, so should the activity's worker die
 * before its own cleanup, the table is dropped here.
 *
 * Durability: the test is not retried (its failure is the answer); the cleanup is, and is idempotent.
 */
export async function testBackfillDayWorkflow(raw: TestDayWorkflowInputRaw): Promise<TestDayResult> {
  const { job, day } = await resolveTestDayInput(raw);
  const { workflowId, firstExecutionRunId } = workflowInfo();
  const input = { job, day, tag: writerTag(workflowId, firstExecutionRunId) };
  try {
    return await testBackfillDay(input);
  } finally {
    await dropTestDayTable(input);
  }
}
