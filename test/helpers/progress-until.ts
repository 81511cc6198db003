import type { WorkflowHandle } from '@temporalio/client';
import { progressQuery } from '../../src/shared/messages';
import type { BackfillProgress } from '../../src/shared/progress';

/** Polls the `progress` query until `ok` holds (the workflow may not have answered yet). */
export async function progressUntil(
  handle: WorkflowHandle,
  ok: (p: BackfillProgress) => boolean,
  what: string,
): Promise<BackfillProgress> {
  for (let i = 0; i < 600; i++) {
    const p = await handle.query(progressQuery).catch(() => undefined);
    if (p && ok(p)) return p;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`progress never showed: ${what}`);
}
