import type { Command } from 'commander';
import { approveUpdate, rejectUpdate } from '../../shared/messages';
import { CliError } from '../cli-error';
import { connectTemporalClient } from '../temporal-client';
import { sendUpdate } from './backfill-handle';

/**
 * `approve|reject <id> [partition]`: answers a partition waiting because it would shrink past the job's
 * `safety.maxShrink`, through the `approve`/`reject` Update. `<id>` is a backfill (the partition is then required;
 * the backfill forwards the answer) or a partition workflow itself (`partition:<database>.<table>/<partition>`,
 * e.g. for a daily run). Prints the job's answer, or its refusal ("202401 is not awaiting approval") with exit 1.
 */
export function registerApproveCommands(program: Command): void {
  for (const [verb, update, effect] of [
    ['approve', approveUpdate, 'swap the shrinking partition in'],
    ['reject', rejectUpdate, 'fail the shrinking partition; the live table keeps it as it is'],
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
        const handle = client.workflow.getHandle(workflowId);
        const answer = await sendUpdate(workflowId, () =>
          handle.executeUpdate(update, { args: [direct ? undefined : { partition: partition ?? '' }] }),
        );
        console.log(`${workflowId}: ${answer}`);
      });
  }
}
