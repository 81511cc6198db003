import type { Command } from 'commander';
import { startBackfill } from '../kinds/aggregate';
import { connectTemporalClient } from '../temporal-client';
import { failedPartitionsOf } from '../failed-partitions';

/**
 * `retry-failed <id>`: kept as a short form of `start --only failed --retry-of <id>` with the job and range of that
 * backfill (read from its history). Starts `<id>-retry` unless `--workflow-id`. Needs no worker to find the failed
 * partitions: they are in the closed backfill's failure.
 */
export function registerRetryFailedCommand(program: Command): void {
  program
    .command('retry-failed <workflowId>')
    .description('start a new backfill of only the failed partitions of a finished one (start --only failed)')
    .option('--workflow-id <id>', 'workflow id of the new backfill (default: <workflowId>-retry)')
    .action(async (workflowId: string, options: { workflowId?: string }) => {
      const client = await connectTemporalClient();
      const { input, failed } = await failedPartitionsOf(client, workflowId);
      const retryId = options.workflowId ?? `${workflowId}-retry`;
      await startBackfill(client, { ...input, only: 'failed', retryOf: workflowId, partitions: failed }, retryId);
      console.log(`started ${retryId} for ${failed.length} failed partition(s): ${failed.join(', ')}`);
    });
}
