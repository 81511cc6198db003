import { WorkflowFailedError, type Client } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { BackfillInputRaw } from '../shared/backfill-input';
import type { BackfillSummary } from '../shared/backfill-results';
import { FailureType } from '../shared/failure-types';
import { CliError } from './cli-error';
import { backfillInputOf, queryFailure } from './commands/backfill-handle';

/**
 * The partitions that failed in a closed backfill, and the input it started with, read from Temporal's history
 * alone (no worker needed): a backfill with failed partitions fails with its summary, which names each, as the
 * failure's details. A completed backfill has none; a cancelled or terminated one keeps no such list.
 */
export async function failedPartitionsOf(
  client: Client,
  workflowId: string,
): Promise<{ input: BackfillInputRaw; failed: string[] }> {
  const handle = client.workflow.getHandle(workflowId);
  const { status } = await handle.describe().catch(queryFailure(workflowId));
  if (status.name === 'RUNNING') throw new CliError(`backfill ${workflowId} is still running`);
  const input = await backfillInputOf(handle);
  const outcome = await handle.result().then(
    () => undefined,
    (err: unknown) => err,
  );
  if (outcome === undefined) throw new CliError(`backfill ${workflowId} has no failed partitions`);
  const cause = outcome instanceof WorkflowFailedError ? outcome.cause : undefined;
  if (!(cause instanceof ApplicationFailure) || cause.type !== FailureType.PartitionsFailed) {
    throw new CliError(
      `backfill ${workflowId} ended ${status.name.toLowerCase()} without a list of failed partitions: ` +
        'start its range again with --only changed to redo what it did not swap',
    );
  }
  const [summary] = cause.details as [BackfillSummary];
  return { input, failed: summary.failed.map((f) => f.partition) };
}
