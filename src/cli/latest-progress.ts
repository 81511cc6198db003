import type { WorkflowHandle } from '@temporalio/client';
import { progressQuery } from '../shared/messages';
import type { BackfillProgress } from '../shared/progress';

/** How long the first `progress` query may take before it is asked again (see {@link latestProgress}). */
export const PROGRESS_PATIENCE_MS = 500;

/** gRPC's status code DEADLINE_EXCEEDED. */
const DEADLINE_EXCEEDED = 4;

const deadlineExceeded = (err: unknown): boolean =>
  (err as { cause?: { code?: number } } | undefined)?.cause?.code === DEADLINE_EXCEEDED ||
  (err as { code?: number } | undefined)?.code === DEADLINE_EXCEEDED;

/**
 * The `progress` of a job's current run. A query that reaches a run while the workflow task that continues it as
 * new is under way waits for that task, and is then answered by the closed run, which Temporal does by handing it
 * to a worker that replays the run's whole history: seconds for a run of thousands of events (issue 21). Asked
 * again once `patienceMs` have passed, the query reaches the new run, which answers at once. Errors other than
 * the first query's deadline are the caller's.
 */
export async function latestProgress(
  handle: WorkflowHandle,
  patienceMs = PROGRESS_PATIENCE_MS,
): Promise<BackfillProgress> {
  try {
    return await handle.client.withDeadline(Date.now() + patienceMs, () => handle.query(progressQuery));
  } catch (err) {
    if (!deadlineExceeded(err)) throw err;
    return handle.query(progressQuery);
  }
}
