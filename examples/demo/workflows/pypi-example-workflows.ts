import { ActivityCancellationType, isCancellation, proxyActivities } from '@temporalio/workflow';
import type { DemoActivities } from '../activities';
import type { PypiExampleTables, PypiImportExampleTables } from '../activities/pypi-example';

const { preparePypiExample, checkPypiExample, preparePypiImportExample, checkPypiImportExample } =
  proxyActivities<DemoActivities>({
    startToCloseTimeout: '30m',
    heartbeatTimeout: '20s',
    retry: { maximumAttempts: 3 },
  });

// Cancelling the workflow waits until the activity has stopped inserting, so the check after it sees every row.
const { ingestPypi } = proxyActivities<DemoActivities>({
  startToCloseTimeout: '24h',
  cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
  heartbeatTimeout: '10s',
  retry: { maximumAttempts: 3 },
});

/**
 * Prepares `npm start -- --example pypi`: a fresh view and target, and generated history in `pypi`. Runs on the
 * worker, the only process that may open the embedded data directory. Durability: the activity is idempotent.
 */
export async function preparePypiExampleWorkflow(
  input: PypiExampleTables & { rows: number; days: number },
): Promise<{ rows: number }> {
  return preparePypiExample(input);
}

/**
 * Live ingestion into `pypi` while the view backfill runs, until this workflow is cancelled; it then completes
 * normally. Durability: the ingesting activity is retried after a crash and goes on inserting new rows.
 */
export async function pypiIngestionWorkflow(input: {
  source: string;
  batch: number;
  intervalMs: number;
}): Promise<void> {
  try {
    await ingestPypi(input);
  } catch (err) {
    if (!isCancellation(err)) throw err;
  }
}

/** The example's final check: the view target against the view's query over all rows. Read-only. */
export async function checkPypiExampleWorkflow(input: PypiExampleTables & { since: number }) {
  return checkPypiExample(input);
}

/**
 * Prepares `npm start -- --example pypi-import`: `pypi` fresh with the guide's two views and a first live batch, and
 * generated history in `pypi_history`. Durability: the activity is idempotent.
 */
export async function preparePypiImportExampleWorkflow(
  input: PypiImportExampleTables & { rows: number; days: number; batch: number },
): Promise<{ historyRows: number }> {
  return preparePypiImportExample(input);
}

/** The import example's final check: `pypi` against the history before the checkpoint, the targets against their views. */
export async function checkPypiImportExampleWorkflow(
  input: PypiImportExampleTables & { checkpoint: number; since: number },
) {
  return checkPypiImportExample(input);
}
