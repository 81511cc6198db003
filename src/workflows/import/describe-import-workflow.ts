import { proxyActivities, proxyLocalActivities } from '@temporalio/workflow';
import type { Activities } from '../../activities';
import type { ImportDescription, ImportInputRaw } from '../../shared/import-input';

const { describeImport } = proxyActivities<Activities>({
  startToCloseTimeout: '5m',
  // A description reports what it found; a failure is the answer (a refusal, or ClickHouse unreachable).
  retry: { maximumAttempts: 1 },
});

const { resolveImportInput } = proxyLocalActivities<Activities>({
  startToCloseTimeout: '1m',
  retry: { maximumAttempts: 1 },
});

/**
 * `ch-backfill start --dry-run` of an import job, run on a worker: in embedded mode only the worker may open the
 * data directory. Checks the job as `importWorkflow` does before any DDL (the same refusals) and returns every table
 * and view a run started now would create and every statement it would send, rendered by the functions the run
 * uses, so the two cannot drift.
 *
 * Durability: read-only, not retried, creates nothing; a lost run is simply asked again.
 */
export async function describeImportWorkflow(raw: ImportInputRaw): Promise<ImportDescription> {
  const { job, only } = await resolveImportInput(raw);
  return describeImport({ job, ...(only ? { only } : {}) });
}
