import type { Command } from 'commander';
import { connectTemporalClient } from '../temporal-client';
import { queryFailure } from './backfill-handle';
import { progressQuery } from '../../shared/messages';

/**
 * `cancel <id>`: cancels the backfill, waits until it has dropped its shadows, then prints which partitions
 * the live table holds from this backfill (swapped) and which were stopped before their swap.
 */
export function registerCancelCommand(program: Command): void {
  program
    .command('cancel <workflowId>')
    .description('cancel a backfill; the live table keeps exactly the partitions already swapped in')
    .action(async (workflowId: string) => {
      const client = await connectTemporalClient();
      const handle = client.workflow.getHandle(workflowId);
      await handle.cancel().catch(queryFailure(workflowId));
      await handle.result().catch(() => undefined);
      const p = await handle.query(progressQuery).catch(queryFailure(workflowId));
      const ids = (state: string) => p.partitions.filter((x) => x.state === state).map((x) => x.id);
      console.log(`${workflowId}: ${p.phase}`);
      console.log(`swapped in (kept): ${ids('swapped').join(', ') || 'none'}`);
      console.log(`stopped before the swap: ${ids('cancelled').join(', ') || 'none'}`);
      console.log(`never started: ${ids('pending').length}`);
    });
}
