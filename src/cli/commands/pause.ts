import type { Command } from 'commander';
import { pauseUpdate } from '../../shared/messages';
import { connectTemporalClient } from '../temporal-client';
import { sendUpdate } from './backfill-handle';

/**
 * `pause <id> [--now] [--reason <text>]`: the `pause` Update; prints the job's answer, or its refusal (e.g.
 * "already paused") with exit code 1. The `pause` signal stays for scripts (`temporal workflow signal --name pause`).
 */
export function registerPauseCommand(program: Command): void {
  program
    .command('pause <workflowId>')
    .description('pause a backfill: no new partition or step starts; a running INSERT finishes unless --now')
    .option('--now', 'also cancel a running INSERT (it is redone from scratch after resume)')
    .option('--reason <text>', 'why, shown by status', 'paused by an operator')
    .action(async (workflowId: string, options: { now?: boolean; reason: string }) => {
      const client = await connectTemporalClient();
      const handle = client.workflow.getHandle(workflowId);
      const answer = await sendUpdate(workflowId, () =>
        handle.executeUpdate(pauseUpdate, { args: [{ reason: options.reason, now: options.now ?? false }] }),
      );
      console.log(`${workflowId} ${answer}`);
    });
}
