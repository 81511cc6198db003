import type { Client, WorkflowHandle } from '@temporalio/client';
import type { BackfillSummary } from '../../../src/shared/backfill-results';
import type { pypiIngestionWorkflow } from '../workflows';
import { errorLine } from '../../../src/cli/error-line';
import { showProgress } from '../../../src/cli/progress-view';
import { formatSummary, formatValidation } from '../../../src/cli/summary-table';

/** The live ingestion an example runs its job under: `batch` generated rows every `intervalMs` into `source`. */
export interface ExampleIngestion {
  workflowId: string;
  source: string;
  batch: number;
  intervalMs: number;
}

/**
 * The part every PyPI example shares: starts `pypiIngestionWorkflow` into `ingestion.source`, then the example's
 * job (`startJob`), follows the job with the live bar, lets the ingestion run two seconds more (rows after the job
 * are the live views' alone), stops it, and prints the job's summary and validation. Returns the summary (`S`, what
 * the job's workflow returns), or `undefined` when the job failed (its error line printed).
 */
export async function runWhileIngesting<S extends BackfillSummary>(
  client: Client,
  taskQueue: string,
  log: (m: string) => void,
  ingestion: ExampleIngestion,
  startJob: () => Promise<WorkflowHandle>,
): Promise<S | undefined> {
  const { workflowId, source, batch, intervalMs } = ingestion;
  const ingesting = await client.workflow.start<typeof pypiIngestionWorkflow>('pypiIngestionWorkflow', {
    taskQueue,
    workflowId,
    args: [{ source, batch, intervalMs }],
  });
  log(`Live ingestion: ${batch} rows every ${intervalMs} ms into ${source} (${ingesting.workflowId})`);
  const handle = await startJob();
  const result = handle.result() as Promise<S>;
  await showProgress(handle, result);
  let summary: S;
  try {
    summary = await result;
  } catch (err) {
    console.error(`\n${errorLine(err)}`);
    return undefined;
  } finally {
    await new Promise((r) => setTimeout(r, 2_000));
    await ingesting.cancel();
    await ingesting.result();
  }
  console.log(`\n${formatSummary(summary)}\n\nValidation:\n${formatValidation(summary)}`);
  return summary;
}
