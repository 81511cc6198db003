import { randomUUID } from 'node:crypto';
import type { ClickHouse } from '../../src/clickhouse/clickhouse';
import { confirmSignal } from '../../src/shared/messages';
import type { ViewSnapshotSummary } from '../../src/shared/snapshot-input';
import { insertPypiRows } from '../../examples/demo/sql/pypi-demo';
import { CRASH_SAFETY, shadowTables, useCrashTest } from '../helpers/crash-workers';
import { progressUntil } from '../helpers/progress-until';
import { createCrashTestPypi, hourlyTargetAndSource, pypiViewJob } from '../helpers/view-jobs';
import { statementOf } from '../helpers/statement-of';

/*
 * A snapshot job's worker killed with SIGKILL while it attaches the source's partitions to the snapshot, during a
 * fill from the snapshot, between the fill and the move, and right after the move landed (test/fixtures/
 * crash-worker.ts); a fresh worker finishes. ATTACH PARTITION FROM copies again when repeated, so a snapshot redone
 * onto a partial one would double rows: the target must count every row of the source exactly once, also the rows
 * inserted while the worker was dead (inserts resumed: the view writes them).
 */

const db = 'snapshot_crash';
const pypi = { database: db, name: 'pypi' };

const one = async (ch: ClickHouse, query: string): Promise<string> =>
  (await ch.rows(statementOf<{ n: string }>({ query: `SELECT toString((${query})) AS n`, params: {} })))[0].n;

/** Tables of the test database whose name matches a LIKE pattern, without their writer tag. */
const tablesLike = (ch: ClickHouse, pattern: string): Promise<string[]> => shadowTables(ch, db, pattern);

describe('crash recovery of a snapshot job: a worker killed with SIGKILL', () => {
  const crash = useCrashTest('snapshot-crash', db, (ch) => createCrashTestPypi(ch, pypi));

  it.each([
    ['while the snapshot is taken', 'snapshot:attached', 'snap_attach'],
    ['during the fill', 'insert:started', 'snap_fill'],
    ['between the fill and the move', 'insert:finished', 'snap_filled'],
    ['right after the move landed', 'move:done', 'snap_moved'],
  ] as const)('%s: the target counts every row once', async (_, point, target) => {
    const job = pypiViewJob('pypi-downloads-per-day-snapshot.yaml', db, {
      target: { table: `${db}.${target}`, engine: 'SummingMergeTree', partitionBy: 'month' },
      view: { name: `${target}_mv` },
      fill: 'ranged',
      safety: CRASH_SAFETY,
    });
    const run = await crash.runUntilKilled<ViewSnapshotSummary>(
      target,
      `${point}@202401`,
      async (client, taskQueue) => {
        const handle = await client.workflow.start('viewSnapshotWorkflow', {
          taskQueue,
          workflowId: `snapshot-crash-${target}-${randomUUID()}`,
          args: [{ job }],
        });
        await progressUntil(handle, (p) => p.snapshot?.state === 'awaiting-confirm', 'waiting for confirm');
        await handle.signal(confirmSignal);
        return handle;
      },
    );
    expect(run.killed.steps().at(-1)).toBe(`${point} 202401`);

    const january = `SELECT count() FROM ${db}.pypi WHERE toYYYYMM(timestamp) = 202401`;
    const viewRows = `SELECT sum(count) FROM ${db}.${target} WHERE toYYYYMM(hour) = 202401`;
    const crashed = await crash.withClickHouse(async (ch) => {
      const state = {
        snapshots: await tablesLike(ch, 'pypi\\_snapshot\\_%'),
        snapshotRows: await one(
          ch,
          `SELECT sum(rows) FROM system.parts WHERE database = '${db}' AND table LIKE 'pypi\\_snapshot\\_%' AND active`,
        ),
        views: await tablesLike(ch, `${target}\\_mv`),
        shadows: await tablesLike(ch, `${target}\\_v2\\_%`),
        january: await one(ch, january),
        target: point === 'snapshot:attached' ? '' : await one(ch, viewRows),
        total: await one(ch, `SELECT count() FROM ${db}.pypi`),
      };
      // Inserts resumed once the view exists: rows arrive while the worker is dead, into the partition it fills.
      if (state.views.length > 0) {
        await ch.exec(insertPypiRows(pypi, 10_000, '2024-01-15 00:00:00', '2024-01-16 00:00:00'));
      }
      return state;
    });
    if (point === 'snapshot:attached') {
      // Half a snapshot: January attached, February not, and no view yet.
      expect(crashed.snapshots).toEqual(['pypi_snapshot']);
      expect(crashed.snapshotRows).toBe(crashed.january);
      expect(crashed.views).toEqual([]);
    } else {
      expect(crashed.views).toEqual([`${target}_mv`]);
      if (point === 'move:done') expect(crashed.target).toBe(crashed.january);
      else {
        expect(crashed.target).toBe('0');
        expect(crashed.shadows).toEqual([`${target}_v2_202401`]);
      }
    }

    const { summary, recovered } = await crash.recover(target, run);
    expect(summary.partitions.map((p) => p.partition)).toEqual(['202401', '202402']);
    expect(summary.snapshotRows).toBe(Number(crashed.total));
    expect(recovered.steps()).toContain(`${point} 202401`);
    await crash.withClickHouse(async (ch) => {
      const { target: t, source } = await hourlyTargetAndSource(ch, db, target);
      expect(t).toEqual(source);
      expect(await tablesLike(ch, '%\\_snapshot\\_%')).toEqual([]);
      expect(await tablesLike(ch, `${target}\\_v2\\_%`)).toEqual([]);
    });
  });
});
