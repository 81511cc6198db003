import type { Command } from 'commander';
import { partitionGrid } from '../partition-grid';
import { formatProgress, watchProgress } from '../progress-view';
import { connectTemporalClient } from '../temporal-client';
import { queryFailure } from './backfill-handle';
import { latestProgress } from '../latest-progress';

/**
 * `status <id> [--watch]`: where a backfill stands (a grid of every partition's state, then the overall lines and
 * the partitions under way or done), once, or followed until it closes (the grid redrawn above the status line).
 */
export function registerStatusCommand(program: Command): void {
  program
    .command('status <workflowId>')
    .description("show a backfill's progress: partitions, current steps, rows/s, ETA, pause reason")
    .option('--watch', 'follow it until it closes: the grid and the status line, redrawn every half second')
    .action(async (workflowId: string, options: { watch?: boolean }) => {
      const client = await connectTemporalClient();
      const handle = client.workflow.getHandle(workflowId);
      const tty = Boolean(process.stdout.isTTY);
      if (options.watch) {
        await handle.describe().catch(queryFailure(workflowId));
        return watchProgress(handle, handle.result(), tty);
      }
      const progress = await latestProgress(handle).catch(queryFailure(workflowId));
      // The grid first, so the overall lines stay at the bottom of a long backfill's screen.
      const grid = partitionGrid(progress.partitions, tty);
      console.log([grid, formatProgress(workflowId, progress)].filter(Boolean).join('\n'));
    });
}
