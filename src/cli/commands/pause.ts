import type { Command } from 'commander';
import { pauseSignal } from '../../shared/messages';
import { connectTemporalClient } from '../temporal-client';
import { queryFailure } from './backfill-handle';

/** `pause <id> [--now] [--reason <text>]`: signals the backfill to pause. */
export function registerPauseCommand(program: Command): void {
  program
    .command('pause <workflowId>')
    .description('pause a backfill: no new partition or step starts; a running INSERT finishes unless --now')
    .option('--now', 'also cancel a running INSERT (it is redone from scratch after resume)')
    .option('--reason <text>', 'why, shown by status', 'paused by an operator')
    .action(async (workflowId: string, options: { now?: boolean; reason: string }) => {
      const client = await connectTemporalClient();
      await client.workflow
        .getHandle(workflowId)
        .signal(pauseSignal, { reason: options.reason, now: options.now ?? false })
        .catch(queryFailure(workflowId));
      console.log(`pause sent to ${workflowId}${options.now ? ' (running inserts cancelled)' : ''}`);
    });
}
