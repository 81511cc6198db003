import { randomUUID } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { ClickHouse } from '../../src/clickhouse/clickhouse';
import { confirmSignal } from '../../src/shared/messages';
import type { ViewSnapshotSummary } from '../../src/shared/snapshot-input';
import { createPypiTable, insertPypiRows } from '../../src/sql/pypi-demo';
import { workflowBundle } from '../helpers/backfill-harness';
import { CrashWorkers, crashRunDirs, withClickHouse as withDataDir } from '../helpers/crash-workers';
import { progressUntil } from '../helpers/progress-until';
import { createTestTemporal } from '../helpers/temporal-env';
import { pypiViewJob, targetAndSource } from '../helpers/view-jobs';

/*
 * A snapshot job's worker killed with SIGKILL while it attaches the source's partitions to the snapshot, during a
 * fill from the snapshot, between the fill and the move, and right after the move landed (test/fixtures/
 * crash-worker.ts); a fresh worker finishes. ATTACH PARTITION FROM copies again when repeated, so a snapshot redone
 * onto a partial one would double rows: the target must count every row of the source exactly once, also the rows
 * inserted while the worker was dead (inserts resumed: the view writes them).
 */

const dirs = crashRunDirs('snapshot-crash');
const { runDir, bundleFile } = dirs;
const db = 'snapshot_crash';
const pypi = { database: db, name: 'pypi' };
const taskQueue = `snapshot-crash-${randomUUID()}`;
const workers = new CrashWorkers(dirs, taskQueue);
const withClickHouse = <T>(fn: (ch: ClickHouse) => Promise<T>): Promise<T> => withDataDir(dirs.dataDir, fn);

const one = async (ch: ClickHouse, query: string): Promise<string> =>
  (await ch.rows<{ n: string }>({ query: `SELECT toString((${query})) AS n`, params: {} }))[0].n;

/** Tables of the test database whose name matches a LIKE pattern, without their writer tag. */
async function tablesLike(ch: ClickHouse, pattern: string): Promise<string[]> {
  const rows = await ch.rows<{ name: string }>({
    query: 'SELECT name FROM system.tables WHERE database = {db:String} AND name LIKE {pattern:String} ORDER BY name',
    params: { db, pattern },
  });
  return rows.map((r) => r.name.replace(/_[0-9a-f]{8}$/, ''));
}

describe('crash recovery of a snapshot job: a worker killed with SIGKILL', () => {
  let env: TestWorkflowEnvironment;

  beforeAll(async () => {
    rmSync(runDir, { recursive: true, force: true });
    mkdirSync(runDir, { recursive: true });
    writeFileSync(bundleFile, (await workflowBundle()).code);
    await withClickHouse(async (ch) => {
      await ch.exec({ query: 'CREATE DATABASE {db:Identifier}', params: { db } });
      await ch.exec(createPypiTable(pypi));
      // Enough rows in January that its fill lasts longer than the 0.3 s before the kill.
      await ch.exec(insertPypiRows(pypi, 3_000_000, '2024-01-01 00:00:00', '2024-02-01 00:00:00'));
      await ch.exec(insertPypiRows(pypi, 100_000, '2024-02-01 00:00:00', '2024-03-01 00:00:00'));
    });
    env = await createTestTemporal();
  });

  afterAll(async () => {
    workers.killAll();
    await env?.teardown();
    if (workers.idle) rmSync(runDir, { recursive: true, force: true });
  });

  it.each([
    ['while the snapshot is taken', 'snapshot:attached', 'snap_attach'],
    ['during the fill', 'insert:started', 'snap_fill'],
    ['between the fill and the move', 'insert:finished', 'snap_filled'],
    ['right after the move landed', 'move:done', 'snap_moved'],
  ] as const)('%s: the target counts every row once', async (_, point, target) => {
    const marker = path.join(runDir, `${target}.fired`);
    const killed = workers.start(env.address, `${target}-killed`, { at: `${point}@202401`, marker });
    const job = pypiViewJob('pypi-downloads-per-day-snapshot.yaml', db, {
      target: { table: `${db}.${target}`, engine: 'SummingMergeTree', partitionBy: 'month' },
      view: { name: `${target}_mv` },
      fill: 'ranged',
    });
    const handle = await env.client.workflow.start('viewSnapshotWorkflow', {
      taskQueue,
      workflowId: `snapshot-crash-${target}-${randomUUID()}`,
      args: [{ job }],
    });
    const result = handle.result() as Promise<ViewSnapshotSummary>;
    await progressUntil(handle, (p) => p.snapshot?.state === 'awaiting-confirm', 'waiting for confirm');
    await handle.signal(confirmSignal);
    const exit = await Promise.race([killed.exited, result.then(() => 'completed' as const)]);
    expect(exit).toEqual({ code: null, signal: 'SIGKILL' });
    expect(killed.steps().at(-1)).toBe(`${point} 202401`);

    const january = `SELECT count() FROM ${db}.pypi WHERE toYYYYMM(timestamp) = 202401`;
    const viewRows = `SELECT sum(count) FROM ${db}.${target} WHERE toYYYYMM(hour) = 202401`;
    const crashed = await withClickHouse(async (ch) => {
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

    const recovered = workers.start(env.address, `${target}-recovered`);
    try {
      const summary = await result;
      expect(summary.partitions.map((p) => p.partition)).toEqual(['202401', '202402']);
      expect(summary.snapshotRows).toBe(Number(crashed.total));
      expect(recovered.steps()).toContain(`${point} 202401`);
    } finally {
      await workers.stop(recovered);
    }
    await withClickHouse(async (ch) => {
      const { target: t, source } = await targetAndSource(
        ch,
        db,
        target,
        'hour, project',
        'sum(count)',
        'toStartOfHour(timestamp) AS hour, project',
      );
      expect(t).toEqual(source);
      expect(await tablesLike(ch, '%\\_snapshot\\_%')).toEqual([]);
      expect(await tablesLike(ch, `${target}\\_v2\\_%`)).toEqual([]);
    });
  });
});
