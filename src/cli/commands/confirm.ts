import type { WorkflowHandle } from '@temporalio/client';
import type { Command } from 'commander';
import { confirmSignal, progressQuery } from '../../shared/messages';
import { type BackfillProgress, type SnapshotProgress } from '../../shared/progress';
import { CliError } from '../cli-error';
import { errorLine } from '../error-line';
import { snapshotLines } from '../snapshot-status';
import { connectTemporalClient } from '../temporal-client';
import { queryFailure } from './backfill-handle';

const POLL_MS = 300;

/**
 * Follows a snapshot job from the confirm it was sent until it has tried a snapshot after `attempts` earlier
 * ones: it took it and created the view, found that rows kept arriving (waiting for another confirm), or closed.
 */
async function afterAttempt(handle: WorkflowHandle, attempts: number): Promise<BackfillProgress> {
  let closed: unknown;
  void handle.result().then(
    () => (closed = 'completed'),
    (err: unknown) => (closed = err),
  );
  for (;;) {
    const p = await handle.query(progressQuery).catch(() => undefined);
    const s = p?.snapshot;
    if (p && s && s.attempts > attempts && s.state !== 'snapshotting') return p;
    if (closed !== undefined) {
      const last = p ?? (await handle.query(progressQuery).catch(queryFailure(handle.workflowId)));
      if (last.snapshot?.insertsMayResumeAt) return last;
      const why = closed instanceof Error ? errorLine(closed) : 'closed';
      throw new CliError(
        `${handle.workflowId} ended before its view was created (${why}): nothing was created, inserts may resume`,
      );
    }
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

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
 * `confirm <id>`: tells a `cutoff: snapshot` view job that inserts into its source are paused. The job then takes
 * its snapshot and creates its view; `confirm` waits for that and prints that inserts may resume (exit 0), or why
 * not (exit 1): rows kept arriving, so the job created nothing and waits for another confirm; or the job ended.
 * A job that is already past its snapshot just gets its answer again.
 */
export function registerConfirmCommand(program: Command): void {
  program
    .command('confirm <workflowId>')
    .description('a view job with cutoff: snapshot: inserts into its source are paused; returns once they may resume')
    .option('--no-wait', 'return once the confirm is sent')
    .action(async (workflowId: string, options: { wait: boolean }) => {
      const client = await connectTemporalClient();
      const handle = client.workflow.getHandle(workflowId);
      const before = await handle.query(progressQuery).catch(queryFailure(workflowId));
      const s = before.snapshot;
      if (!s) {
        throw new CliError(
          before.phase === 'planning'
            ? `${workflowId} is still checking its job: confirm once status says it is waiting for confirm`
            : `${workflowId} takes no confirm: only a view job with cutoff: snapshot waits for one`,
        );
      }
      if (s.state !== 'awaiting-confirm' && s.state !== 'snapshotting') {
        console.log(reply(workflowId, s));
        return;
      }
      if (s.state === 'awaiting-confirm') {
        await handle.signal(confirmSignal).catch(queryFailure(workflowId));
        console.log(
          `confirm sent to ${workflowId}: keep inserts into ${s.source} paused until it says they may resume`,
        );
      }
      if (!options.wait) return;
      const done = await afterAttempt(handle, s.state === 'snapshotting' ? s.attempts - 1 : s.attempts);
      console.log(reply(workflowId, done.snapshot ?? s));
    });
}
