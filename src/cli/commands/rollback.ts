import type { Command } from 'commander';
import { WorkflowIdConflictPolicy } from '@temporalio/client';
import type { RollbackInputRaw } from '../../shared/rollback-input';
import type { rollbackWorkflow } from '../../workflows';
import { CliError } from '../cli-error';
import { connectTemporalClient, taskQueueFromEnv } from '../temporal-client';
import { backfillInputOf, queryFailure } from './backfill-handle';
import { progressQuery } from '../../shared/messages';
import { OPERATOR_PRIORITY } from '../../shared/task-priority';

/**
 * `rollback <id> [--partition P …]`: restores the partitions a finished backfill swapped in (or only the given
 * ones) to what they held before, from the backup table the backfill kept, through the partition locks. Runs as
 * `rollbackWorkflow` with id `rollback-<id>`; running the command again while it runs follows the same rollback,
 * and after it finished repeats it (a no-op on the table).
 */
export function registerRollbackCommand(program: Command): void {
  program
    .command('rollback <workflowId>')
    .description('restore the partitions a finished backfill replaced to their previous contents')
    .option('--partition <id...>', 'only these partitions (default: every partition the backfill swapped)')
    .action(async (workflowId: string, options: { partition?: string[] }) => {
      const client = await connectTemporalClient();
      const handle = client.workflow.getHandle(workflowId);
      const { status } = await handle.describe().catch(queryFailure(workflowId));
      if (status.name === 'RUNNING') throw new CliError(`backfill ${workflowId} is still running: cancel it first`);
      const progress = await handle.query(progressQuery).catch(queryFailure(workflowId));
      if (!progress.target || !progress.backup) throw new CliError(`backfill ${workflowId} kept no backup`);
      const swapped = progress.partitions.filter((p) => p.state === 'swapped' && p.result?.backupRows !== undefined);
      const ids = swapped.map((p) => p.id);
      const unknown = (options.partition ?? []).filter((p) => !ids.includes(p));
      if (unknown.length > 0) {
        throw new CliError(
          `--partition ${unknown.join(', ')}: not swapped by ${workflowId} (it swapped ${ids.join(', ') || 'none'})`,
        );
      }
      const chosen = options.partition ?? ids;
      const partitions = swapped
        .filter((p) => chosen.includes(p.id))
        .map((p) => ({ id: p.id, rows: p.result?.backupRows ?? 0 }));
      if (partitions.length === 0)
        throw new CliError(`backfill ${workflowId} swapped no partition: nothing to roll back`);
      const { job } = await backfillInputOf(handle);
      const input: RollbackInputRaw = {
        backfill: workflowId,
        job,
        target: progress.target,
        backup: progress.backup,
        partitions,
        ...(progress.chain ? { chain: progress.chain } : {}),
      };
      const rollbackId = `rollback-${workflowId}`;
      const summary = await client.workflow.execute<typeof rollbackWorkflow>('rollbackWorkflow', {
        taskQueue: taskQueueFromEnv(),
        workflowId: rollbackId,
        workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
        args: [input],
        staticSummary: `rollback of ${workflowId} on ${progress.target}: ${chosen.join(', ')}`,
        priority: OPERATOR_PRIORITY,
      });
      for (const p of summary.partitions) {
        console.log(
          `${p.partition}: ${p.emptied ? 'emptied (it did not exist before)' : `restored, ${p.rows.toLocaleString('en-US')} rows`}`,
        );
      }
      console.log(`rolled back ${summary.partitions.length} partition(s) of ${summary.target} (${rollbackId})`);
    });
}
