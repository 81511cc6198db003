import { WorkflowUpdateStage } from '@temporalio/client';
import type { Command } from 'commander';
import { confirmUpdate, progressQuery } from '../../shared/messages';
import { type SnapshotProgress } from '../../shared/progress';
import { CliError } from '../cli-error';
import { errorLine } from '../error-line';
import { snapshotLines } from '../snapshot-status';
import { connectTemporalClient } from '../temporal-client';
import { queryFailure, sendUpdate } from './backfill-handle';

/** The reply to an operator once the job has answered a confirm. */
function reply(workflowId: string, s: SnapshotProgress): string {
  if (s.state === 'awaiting-confirm') {
    throw new CliError(
      `nothing was created: ${s.retryReason ?? 'rows kept arriving'}; keep inserts into ${s.source} paused and run ` +
        `ch-backfill confirm ${workflowId} again`,
    );
  }
  return snapshotLines(workflowId, s).join('\n');
}

/**
 * `confirm <id>`: tells a `cutoff: snapshot` view job, through its `confirm` Update, that inserts into its source
 * are paused. The job then takes its snapshot and creates its view; the Update answers once it did, and `confirm`
 * prints that inserts may resume (exit 0), or why not (exit 1): rows kept arriving, so the job created nothing and
 * waits for another confirm; the job ended; or the job refused the confirm (e.g. one is being acted on already).
 * A job that is already past its snapshot just gets its answer again.
 */
export function registerConfirmCommand(program: Command): void {
  program
    .command('confirm <workflowId>')
    .description('a view job with cutoff: snapshot: inserts into its source are paused; returns once they may resume')
    .option('--no-wait', 'return once the job accepted the confirm')
    .action(async (workflowId: string, options: { wait: boolean }) => {
      const client = await connectTemporalClient();
      const handle = client.workflow.getHandle(workflowId);
      const before = await handle.query(progressQuery).catch(queryFailure(workflowId));
      const s = before.snapshot;
      if (!s) {
        throw new CliError(
          before.phase === 'planning'
            ? `${workflowId}: nothing to confirm yet: it is still checking its job; confirm once status says it is waiting for confirm`
            : `${workflowId} takes no confirm: only a view job with cutoff: snapshot waits for one`,
        );
      }
      if (s.state !== 'awaiting-confirm' && s.state !== 'snapshotting') {
        console.log(reply(workflowId, s));
        return;
      }
      const update = await sendUpdate(workflowId, () =>
        handle.startUpdate(confirmUpdate, { waitForStage: WorkflowUpdateStage.ACCEPTED }),
      );
      console.log(
        `confirm accepted by ${workflowId}: keep inserts into ${s.source} paused until it says ` + 'they may resume',
      );
      if (!options.wait) return;
      const done = await update.result().catch(async (err: unknown) => {
        const last = await handle.query(progressQuery).catch(() => undefined);
        if (last?.snapshot?.insertsMayResumeAt) return last.snapshot;
        throw new CliError(
          `${workflowId} ended before its view was created (${errorLine(err)}): nothing was created, inserts may resume`,
        );
      });
      console.log(reply(workflowId, done));
    });
}
