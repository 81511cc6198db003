import { proxyActivities, proxyLocalActivities } from '@temporalio/workflow';
import type { Activities } from '../../activities';
import type { SnapshotDescription } from '../../shared/snapshot-input';
import type { ViewDescription } from '../../shared/view-input';
import type { ViewBackfillInputRaw } from '../../shared/view-input';
import { SNAPSHOT_CUTOFF } from '../../shared/snapshot-cutoff';

const { describeViewBackfill, describeViewSnapshot } = proxyActivities<Activities>({
  startToCloseTimeout: '5m',
  // A description reports what it found; a failure is the answer (a refusal, or ClickHouse unreachable).
  retry: { maximumAttempts: 1 },
});

const { resolveViewBackfillInput } = proxyLocalActivities<Activities>({
  startToCloseTimeout: '1m',
  retry: { maximumAttempts: 1 },
});

/**
 * `ch-backfill start --dry-run` of a view job, run on a worker: in embedded mode only the worker may open the data
 * directory. Checks the job as `viewBackfillWorkflow` does before any DDL (the same refusals) and returns every
 * statement a run started now would send, rendered by the functions the run uses, so the two cannot drift. A
 * `cutoff: snapshot` job is described as `viewSnapshotWorkflow` would run it once confirmed now.
 *
 * Durability: read-only, not retried, creates nothing; a lost run is simply asked again.
 */
export async function describeViewBackfillWorkflow(
  raw: ViewBackfillInputRaw,
): Promise<ViewDescription | SnapshotDescription> {
  const { job } = await resolveViewBackfillInput(raw);
  return job.cutoff === SNAPSHOT_CUTOFF ? describeViewSnapshot({ job }) : describeViewBackfill({ job });
}
