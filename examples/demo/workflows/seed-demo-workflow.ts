import { proxyActivities } from '@temporalio/workflow';
import type { DemoActivities } from '../activities';
import type { DemoEventsInput } from '../activities/demo-events';

const { seedDemoEvents } = proxyActivities<DemoActivities>({
  startToCloseTimeout: '30m',
  heartbeatTimeout: '20s',
  retry: { maximumAttempts: 3 },
});

/**
 * Fills the demo's raw events table when it holds fewer rows than asked for. Runs through the worker because, in
 * embedded mode, only the worker process may open the ClickHouse data directory.
 * Durability: the activity refills from empty, so a retry ends with the same data.
 */
export async function seedDemoWorkflow(input: DemoEventsInput): Promise<{ rows: number; generated: boolean }> {
  return seedDemoEvents(input);
}
