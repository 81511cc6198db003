import type { Command } from 'commander';
import { progressQuery } from '../../shared/progress';
import { partitionGrid } from '../partition-grid';
import { formatProgress, showProgress } from '../progress-view';
import { connectTemporalClient } from '../temporal-client';
import { queryFailure } from './backfill-handle';

/**
 * `status <id> [--watch]`: where a backfill stands (a grid of every partition's state, then the overall lines and
 * the partitions under way or done), once or after following it with a live bar until it closes.
 */
export function registerStatusCommand(program: Command): void {
  program
    .command('status <workflowId>')
    .description("show a backfill's progress: partitions, current steps, rows/s, ETA, pause reason")
    .option('--watch', 'follow with a live progress bar until the backfill closes')
    .action(async (workflowId: string, options: { watch?: boolean }) => {
      const client = await connectTemporalClient();
      const handle = client.workflow.getHandle(workflowId);
      if (options.watch)
        await showProgress(
          handle,
          handle.result().catch(() => undefined),
        );
      const progress = await handle.query(progressQuery).catch(queryFailure(workflowId));
      // The grid first, so the overall lines stay at the bottom of a long backfill's screen.
      const grid = partitionGrid(progress.partitions, Boolean(process.stdout.isTTY));
      console.log([grid, formatProgress(workflowId, progress)].filter(Boolean).join('\n'));
    });
}
