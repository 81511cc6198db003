import { proxyActivities, proxyLocalActivities } from '@temporalio/workflow';
import type { Activities } from '../../activities';
import type { ViewRestateInputRaw, ViewRestatePlan } from '../../shared/view-restate-input';

const { planViewRestate } = proxyActivities<Activities>({
  startToCloseTimeout: '5m',
  // A description reports what it found; a failure is the answer (a refusal, or ClickHouse unreachable).
  retry: { maximumAttempts: 1 },
});
const { resolveViewRestateInput } = proxyLocalActivities<Activities>({
  startToCloseTimeout: '1m',
  retry: { maximumAttempts: 1 },
});

/**
 * `ch-backfill plan` of a view restate, run on a worker: the plan `viewRestateWorkflow` would make now (the view's
 * stored query, its target, the server's profile and the partitions with their rows), with the same refusals.
 *
 * Durability: read-only (planning creates nothing), not retried; a lost run is simply asked again.
 */
export async function describeViewRestateWorkflow(raw: ViewRestateInputRaw): Promise<ViewRestatePlan> {
  const input = await resolveViewRestateInput(raw);
  return planViewRestate({ job: input.job, from: input.from, to: input.to, only: input.only });
}
