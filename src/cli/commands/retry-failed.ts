import type { Command } from 'commander';
import { progressQuery } from '../../shared/progress';
import { startBackfill } from '../start-backfill';
import { CliError } from '../cli-error';
import { connectTemporalClient } from '../temporal-client';
import { backfillInputOf, queryFailure } from './backfill-handle';

/**
 * `retry-failed <id>`: starts a new backfill (`<id>-retry` unless `--workflow-id`) of only the partitions that
 * failed in a closed backfill, with the same job and range (read from the workflow's history).
 */
export function registerRetryFailedCommand(program: Command): void {
  program
    .command('retry-failed <workflowId>')
    .description('start a new backfill of only the failed partitions of a finished one')
    .option('--workflow-id <id>', 'workflow id of the new backfill (default: <workflowId>-retry)')
    .action(async (workflowId: string, options: { workflowId?: string }) => {
      const client = await connectTemporalClient();
      const handle = client.workflow.getHandle(workflowId);
      const { status } = await handle.describe().catch(queryFailure(workflowId));
      if (status.name === 'RUNNING') throw new CliError(`backfill ${workflowId} is still running`);
      const progress = await handle.query(progressQuery).catch(queryFailure(workflowId));
      const failed = progress.partitions.filter((p) => p.state === 'failed').map((p) => p.id);
      if (failed.length === 0) throw new CliError(`backfill ${workflowId} has no failed partitions`);

      const input = await backfillInputOf(handle);
      const retryId = options.workflowId ?? `${workflowId}-retry`;
      await startBackfill(client, { ...input, partitions: failed }, retryId);
      console.log(`started ${retryId} for ${failed.length} failed partition(s): ${failed.join(', ')}`);
    });
}
