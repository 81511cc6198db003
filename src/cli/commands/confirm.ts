import { WorkflowUpdateStage } from '@temporalio/client';
import type { Command } from 'commander';
import { confirmRestateUpdate, confirmUpdate, progressQuery } from '../../shared/messages';
import { type BackfillProgress, type SnapshotProgress } from '../../shared/progress';
import { restateConfirmRefusal } from '../../workflows/engine/operator-refusals';
import { CliError } from '../cli-error';
import { errorLine } from '../error-line';
import { ingestionPhrase } from '../restate-ingestion-status';
import { snapshotLines } from '../snapshot-status';
import { connectTemporalClient } from '../temporal-client';
import type { WorkflowHandle } from '@temporalio/client';
import { queryFailure, sendUpdate } from './backfill-handle';

/** How often `confirm` asks a restate whether ingestion may resume. */
const RESTATE_POLL_MS = 2000;

/**
 * `confirm` to a view restate awaiting one: refused by the CLI, with the job's own reason, when it awaits none;
 * else the Update, then (unless `--no-wait`) the restate's progress asked until ingestion may resume or it ended.
 */
async function confirmRestate(
  handle: WorkflowHandle,
  workflowId: string,
  before: BackfillProgress,
  wait: boolean,
): Promise<void> {
  const s = before.ingestion!;
  const refusal = restateConfirmRefusal(before.phase, s, false);
  if (refusal) throw new CliError(`${workflowId}: ${refusal}`);
  await sendUpdate(workflowId, () => handle.executeUpdate(confirmRestateUpdate));
  console.log(`confirm accepted by ${workflowId}: keep ingestion into ${s.source} paused until it says it may resume`);
  if (!wait) return;
  const told = new Set<string>();
  for (;;) {
    const p = await handle.query(progressQuery).catch(queryFailure(workflowId));
    for (const x of p.partitions.filter((x) => x.step === 'awaiting-approval' && !told.has(x.id))) {
      told.add(x.id);
      console.log(`partition ${x.id} would shrink: it waits for ch-backfill approve ${workflowId} ${x.id} (or reject)`);
    }
    if (p.ingestion?.state === 'ingestion-may-resume') {
      console.log(ingestionPhrase(workflowId, p.ingestion));
      return;
    }
    if (p.phase === 'failed' || p.phase === 'cancelled') {
      throw new CliError(`${workflowId} ${p.phase} while restating ${s.partitions.join(', ')}: see ch-backfill status`);
    }
    await new Promise((r) => setTimeout(r, RESTATE_POLL_MS));
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
 * `confirm <id>`: tells a view restate awaiting a confirm that ingestion into its view's source is paused (it
 * restates the partitions the live view can still write into; `confirm` returns once ingestion may resume), or
 * a `cutoff: snapshot` view job, through its `confirm` Update, that inserts into its source
 * are paused. The job then takes its snapshot and creates its view; the Update answers once it did, and `confirm`
 * prints that inserts may resume (exit 0), or why not (exit 1): rows kept arriving, so the job created nothing and
 * waits for another confirm; the job ended; or the job refused the confirm (e.g. one is being acted on already).
 * A job that is already past its snapshot just gets its answer again.
 */
export function registerConfirmCommand(program: Command): void {
  program
    .command('confirm <workflowId>')
    .description(
      'a view job with cutoff: snapshot or a view restate: inserts into its source are paused; returns once they may resume',
    )
    .option('--no-wait', 'return once the job accepted the confirm')
    .action(async (workflowId: string, options: { wait: boolean }) => {
      const client = await connectTemporalClient();
      const handle = client.workflow.getHandle(workflowId);
      const before = await handle.query(progressQuery).catch(queryFailure(workflowId));
      if (before.ingestion) return confirmRestate(handle, workflowId, before, options.wait);
      const s = before.snapshot;
      if (!s) {
        throw new CliError(
          before.phase === 'planning'
            ? `${workflowId}: nothing to confirm yet: it is still checking its job; confirm once status says it is waiting for confirm`
            : `${workflowId} takes no confirm: only a view job with cutoff: snapshot or a view restate with ` +
                'ingestion: paused-by-operator waits for one',
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
