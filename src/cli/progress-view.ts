import { SingleBar, Presets } from 'cli-progress';
import type { WorkflowHandle } from '@temporalio/client';
import { progressQuery, type BackfillProgress } from '../shared/progress';

const POLL_MS = 500;

function describe(p: BackfillProgress): string {
  const running = p.partitions.filter((x) => x.state === 'running').map((x) => x.id);
  return [
    p.phase,
    running.length ? `running ${running.join(', ')}` : '',
    `${p.rowsWritten.toLocaleString('en-US')} rows written`,
    p.failed ? `${p.failed} failed` : '',
  ]
    .filter(Boolean)
    .join(' | ');
}

/**
 * Shows a live progress bar of a running backfill (partitions done / total) by polling its `progress` query,
 * until `until` settles. Query errors while the workflow starts are ignored.
 */
export async function showProgress(handle: WorkflowHandle, until: Promise<unknown>): Promise<void> {
  const bar = new SingleBar(
    {
      format: ' {bar} {value}/{total} partitions | {status}',
      hideCursor: true,
      noTTYOutput: true,
      notTTYSchedule: 5000,
    },
    Presets.shades_classic,
  );
  bar.start(1, 0, { status: 'starting' });
  let settled = false;
  void until.finally(() => (settled = true)).catch(() => undefined);
  const poll = async () => {
    try {
      const p = await handle.query(progressQuery);
      bar.setTotal(Math.max(p.total, 1));
      bar.update(p.done + p.failed, { status: describe(p) });
    } catch {
      // The workflow may not have started its first task yet.
    }
  };
  while (!settled) {
    await poll();
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
  await poll();
  bar.stop();
}
