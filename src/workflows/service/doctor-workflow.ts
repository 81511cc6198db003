import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../../activities';
import type { ClickHouseDoctorInput, DoctorCheck } from '../../activities/service/doctor';

const { checkClickHouse } = proxyActivities<Activities>({
  startToCloseTimeout: '1m',
  // A diagnosis reports what it found; retrying would only hide a flaky connection.
  retry: { maximumAttempts: 1 },
});

/**
 * `ch-backfill doctor`'s ClickHouse checks, run on a worker: in embedded mode only the worker may open the data
 * directory, and a check that completes also proves a worker serves the task queue.
 *
 * Durability: one activity, not retried, leaving nothing behind (its scratch tables are dropped); the CLI waits a
 * few seconds and terminates the workflow if no worker picked it up.
 */
export async function doctorWorkflow(input: ClickHouseDoctorInput): Promise<DoctorCheck[]> {
  return checkClickHouse(input);
}
