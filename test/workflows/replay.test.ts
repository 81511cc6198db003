import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Worker, type ReplayResult } from '@temporalio/worker';
import { workflowBundle } from '../helpers/backfill-harness';

/*
 * Histories of real runs (a backfill paused and resumed, one that continued as new, a cancelled one, a daily run,
 * a rollback, a view backfill paused and resumed across continue-as-new, a snapshot view job through its confirm,
 * an import, view restates: of a chain across continue-as-new and one through its confirm, the service workflow's
 * questions across a continue-as-new; with every partition workflow and lock they started), recorded by
 * `npm run record-histories`, replayed
 * against the current workflow code, with the same scenarios as recorded before each `patched()` change since. A change that would break a running workflow's replay fails here.
 */
const dir = path.resolve(__dirname, '..', 'replay', 'histories');
/**
 * Recordings made before a `patched()` change, kept so that both sides of it replay: one directory per patch,
 * named for it (`histories-before/<patch id>/`), holding the scenarios as they were recorded then.
 */
const before = path.resolve(__dirname, '..', 'replay', 'histories-before');
const directories = [dir, ...readdirSync(before).map((patch) => path.join(before, patch))];
const recorded = directories.flatMap((d) =>
  readdirSync(d)
    .filter((f) => f.endsWith('.json'))
    .flatMap((file) =>
      (JSON.parse(readFileSync(path.join(d, file), 'utf8')) as { workflowId: string; history: unknown }[]).map(
        (h, i) => [`${path.relative(dir, d) || '.'}/${file.replace(/\.json$/, '')} #${i} ${h.workflowId}`, h] as const,
      ),
    ),
);

let replayed: Promise<ReplayResult[]> | undefined;

/** The result of every recording, in order, replayed by one replay worker (a worker per history took seconds more). */
function replayAll(): Promise<ReplayResult[]> {
  replayed ??= (async () => {
    const results: ReplayResult[] = [];
    const histories = recorded.map(([, h]) => h);
    for await (const result of Worker.runReplayHistories({ workflowBundle: await workflowBundle() }, histories)) {
      results.push(result);
    }
    return results;
  })();
  return replayed;
}

/** Scenarios first recorded after the one-build-activity patch: they have no recording from before it. */
const RECORDED_AFTER_ONE_BUILD_ACTIVITY = [
  'import-files.json',
  'service-questions.json',
  'view-restate.json',
  'view-restate-chain.json',
  'view-restate-confirm.json',
];

describe('recorded histories replay against the current workflow code', () => {
  it('has a recording of every scenario, and the recordings from before the one-build-activity patch', () => {
    expect(readdirSync(path.join(before, 'one-build-activity')).sort()).toEqual(
      readdirSync(dir)
        .filter((f) => !RECORDED_AFTER_ONE_BUILD_ACTIVITY.includes(f))
        .sort(),
    );
    expect(readdirSync(dir).sort()).toEqual([
      'backfill-cancelled.json',
      'backfill-continued-as-new.json',
      'backfill-paused.json',
      'daily-run.json',
      'import-files.json',
      'import.json',
      'rollback.json',
      'service-questions.json',
      'view-backfill.json',
      'view-restate-chain.json',
      'view-restate-confirm.json',
      'view-restate.json',
      'view-snapshot.json',
    ]);
  });

  it.each(recorded.map(([name, h], i) => [name, h.workflowId, i] as const))(
    '%s replays deterministically',
    async (_name, workflowId, i) => {
      const result = (await replayAll())[i];
      expect(result?.workflowId).toBe(workflowId);
      expect(result.error).toBeUndefined();
    },
  );
});
