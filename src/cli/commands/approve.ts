import type { Command } from 'commander';
import { approveSignal, rejectSignal } from '../../shared/messages';
import { CliError } from '../cli-error';
import { connectTemporalClient } from '../temporal-client';
import { queryFailure } from './backfill-handle';

/**
 * `approve|reject <id> [partition]`: answers a partition waiting because it would shrink past the job's
 * `safety.maxShrink`. `<id>` is a backfill (the partition is then required; the backfill forwards the answer) or a
 * partition workflow itself (`partition:<database>.<table>/<partition>`, e.g. for a daily run).
 */
export function registerApproveCommands(program: Command): void {
  for (const [verb, signal, effect] of [
    ['approve', approveSignal, 'swap the shrinking partition in'],
    ['reject', rejectSignal, 'fail the shrinking partition; the live table keeps it as it is'],
  ] as const) {
    program
      .command(`${verb} <workflowId> [partition]`)
      .description(`${effect} (a partition waiting for approval)`)
      .action(async (workflowId: string, partition: string | undefined) => {
        const client = await connectTemporalClient();
        const direct = workflowId.startsWith('partition:');
        if (!direct && !partition) {
          throw new CliError(`${verb}: give the partition, e.g. ${verb} ${workflowId} 202401`);
        }
        await client.workflow
          .getHandle(workflowId)
          .signal(signal, direct ? undefined : { partition: partition ?? '' })
          .catch(queryFailure(workflowId));
        console.log(`${verb} sent to ${workflowId}${direct ? '' : ` for partition ${partition}`}`);
      });
  }
}
