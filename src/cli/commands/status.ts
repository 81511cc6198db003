import type { Command } from 'commander';
import { progressQuery } from '../../shared/progress';
import { formatProgress, showProgress } from '../progress-view';
import { connectTemporalClient } from '../temporal-client';
import { queryFailure } from './backfill-handle';

/** `status <id> [--watch]`: where a backfill stands, once or as a live bar until it closes. */
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
      console.log(formatProgress(workflowId, progress));
    });
}
