import { randomUUID } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { ClickHouse } from '../../src/clickhouse/clickhouse';
import type { TableRef } from '../../src/shared/backfill-results';
import type { ImportSummary } from '../../src/shared/import-input';
import {
  createPypiDownloadsPerDayTable,
  createPypiDownloadsPerDayView,
  createPypiDownloadsTable,
  createPypiDownloadsView,
  createPypiTable,
  insertPypiRows,
} from '../../src/sql/pypi-demo';
import { workflowBundle } from '../helpers/backfill-harness';
import { CrashWorkers, crashRunDirs, withClickHouse as withDataDir } from '../helpers/crash-workers';
import { createTestTemporal } from '../helpers/temporal-env';
import { pypiImportJob, targetAndSource } from '../helpers/view-jobs';

/*
 * An import's worker killed with SIGKILL during a batch's fill, between the fill and the move, right after one of
 * the batch's tables moved, and right after all of them moved (test/fixtures/crash-worker.ts); a fresh worker
 * finishes. Every table (pypi and both view targets) must then count every live and every history row exactly once:
 * no move is repeated into a second copy, and no fill is redone after a move.
 */

const dirs = crashRunDirs('import-crash');
const { runDir, bundleFile } = dirs;
const historyDb = 'import_crash';
const history: TableRef = { database: historyDb, name: 'pypi_history' };
const LIVE_ROWS = 50_000;
const taskQueue = `import-crash-${randomUUID()}`;
const workers = new CrashWorkers(dirs, taskQueue);
const withClickHouse = <T>(fn: (ch: ClickHouse) => Promise<T>): Promise<T> => withDataDir(dirs.dataDir, fn);

/** Rows of a query. */
async function count(ch: ClickHouse, query: string): Promise<number> {
  const [row] = await ch.rows<{ n: string }>({ query: `SELECT toString(count()) AS n FROM (${query})`, params: {} });
  return Number(row.n);
}

/** Each view target against its view's query over every row of `<db>.pypi`. */
async function targets(ch: ClickHouse, db: string) {
  return {
    downloads: await targetAndSource(ch, db, 'pypi_downloads', 'project', 'sum(count)', 'project'),
    perDay: await targetAndSource(
      ch,
      db,
      'pypi_downloads_per_day',
      'hour, project',
      'sum(count)',
      'toStartOfHour(timestamp) AS hour, project',
    ),
  };
}

async function duplicates(ch: ClickHouse, db: string): Promise<string[]> {
  const rows = await ch.rows<{ name: string }>({
    query: "SELECT name FROM system.tables WHERE database = {db:String} AND name LIKE '%\\_v2\\_%' ORDER BY name",
    params: { db },
  });
  return rows.map((r) => r.name.replace(/_[0-9a-f]{8}$/, ''));
}

describe('crash recovery of an import: a worker killed with SIGKILL', () => {
  let env: TestWorkflowEnvironment;
  let historyRows: number;

  beforeAll(async () => {
    rmSync(runDir, { recursive: true, force: true });
    mkdirSync(runDir, { recursive: true });
    writeFileSync(bundleFile, (await workflowBundle()).code);
    historyRows = await withClickHouse(async (ch) => {
      await ch.exec({ query: 'CREATE DATABASE {db:Identifier}', params: { db: historyDb } });
      await ch.exec(createPypiTable(history));
      // Enough rows in January that its fill lasts longer than the 0.3 s before the kill.
      await ch.exec(insertPypiRows(history, 3_000_000, '2024-01-01 00:00:00', '2024-02-01 00:00:00'));
      await ch.exec(insertPypiRows(history, 100_000, '2024-02-01 00:00:00', '2024-03-01 00:00:00'));
      return count(ch, `SELECT 1 FROM ${historyDb}.pypi_history`);
    });
    env = await createTestTemporal();
  });

  afterAll(async () => {
    workers.killAll();
    await env?.teardown();
    if (workers.idle) rmSync(runDir, { recursive: true, force: true });
  });

  it.each([
    ['during the fill', 'insert:started@202401', 'fill'],
    ['between the fill and the move', 'insert:finished@202401', 'filled'],
    ['right after one of its tables moved', 'move:table@202401/pypi_downloads', 'one_moved'],
    ['right after all its tables moved', 'move:done@202401', 'all_moved'],
  ] as const)('%s: every table counts every row once', async (_, at, label) => {
    const db = `import_crash_${label}`;
    const t = (name: string): TableRef => ({ database: db, name });
    await withClickHouse(async (ch) => {
      await ch.exec({ query: 'CREATE DATABASE {db:Identifier}', params: { db } });
      await ch.exec(createPypiTable(t('pypi')));
      await ch.exec(createPypiDownloadsTable(t('pypi_downloads')));
      await ch.exec(createPypiDownloadsView(t('pypi_downloads_mv'), t('pypi'), t('pypi_downloads')));
      await ch.exec(createPypiDownloadsPerDayTable(t('pypi_downloads_per_day')));
      await ch.exec(
        createPypiDownloadsPerDayView(t('pypi_downloads_per_day_mv'), t('pypi'), t('pypi_downloads_per_day')),
      );
      // What ingestion wrote before the import: the checkpoint is its first row, 2024-06-01.
      await ch.exec(insertPypiRows(t('pypi'), LIVE_ROWS, '2024-06-01 00:00:00', '2024-06-15 00:00:00'));
    });

    const marker = path.join(runDir, `${label}.fired`);
    const killed = workers.start(env.address, `${label}-killed`, { at, marker });
    const job = pypiImportJob(db, { source: { table: `${historyDb}.pypi_history` } });
    const handle = await env.client.workflow.start('importWorkflow', {
      taskQueue,
      workflowId: `import-crash-${label}-${randomUUID()}`,
      args: [{ job }],
    });
    const result = handle.result() as Promise<ImportSummary>;
    const exit = await Promise.race([killed.exited, result.then(() => 'completed' as const)]);
    expect(exit).toEqual({ code: null, signal: 'SIGKILL' });
    const [point, partition] = at.split('@');
    expect(killed.steps().at(-1)).toBe(`${point} ${partition}`);

    const crashed = await withClickHouse(async (ch) => ({
      pypi: await count(ch, `SELECT 1 FROM ${db}.pypi`),
      ...(await targets(ch, db)),
      duplicates: await duplicates(ch, db),
    }));
    const february = 100_000;
    if (label === 'fill' || label === 'filled') {
      // February (the newer batch) is in; January is in no live table, only (partly) in its duplicates.
      expect(crashed.pypi).toBe(LIVE_ROWS + february);
      expect(crashed.downloads.target).toEqual(crashed.downloads.source);
      expect(crashed.duplicates).toEqual([
        'pypi_downloads_mv_v2_202401',
        'pypi_downloads_per_day_mv_v2_202401',
        'pypi_downloads_per_day_v2_202401',
        'pypi_downloads_v2_202401',
        'pypi_v2_202401',
      ]);
    } else if (label === 'one_moved') {
      // The worst window: pypi_downloads already holds January, pypi and the other target not yet.
      expect(crashed.pypi).toBe(LIVE_ROWS + february);
      expect(Number(crashed.downloads.target.total)).toBe(historyRows + LIVE_ROWS);
      expect(crashed.perDay.target).toEqual(crashed.perDay.source);
    } else {
      expect(crashed.pypi).toBe(LIVE_ROWS + historyRows);
      expect(crashed.downloads.target).toEqual(crashed.downloads.source);
      expect(crashed.perDay.target).toEqual(crashed.perDay.source);
    }

    const recovered = workers.start(env.address, `${label}-recovered`);
    try {
      const summary = await result;
      expect(summary.partitions.map((p) => p.partition)).toEqual(['202402', '202401']);
      expect(summary.checkpoint).toBe('2024-06-01T00:00:00Z');
      expect(recovered.steps()).toContain(`${point} ${partition}`);
    } finally {
      await workers.stop(recovered);
    }
    await withClickHouse(async (ch) => {
      expect(await count(ch, `SELECT 1 FROM ${db}.pypi`)).toBe(LIVE_ROWS + historyRows);
      const january = (table: string) => `SELECT * FROM ${table} WHERE toYYYYMM(timestamp) = 202401`;
      const [loaded, source] = await Promise.all(
        [`${db}.pypi`, `${historyDb}.pypi_history`].map(async (table) => {
          const [row] = await ch.rows<{ d: string }>({
            query: `SELECT toString(groupBitXor(cityHash64(*))) AS d FROM (${january(table)})`,
            params: {},
          });
          return row.d;
        }),
      );
      expect(loaded).toBe(source);
      const { downloads, perDay } = await targets(ch, db);
      expect(downloads.target).toEqual(downloads.source);
      expect(Number(downloads.source.total)).toBe(LIVE_ROWS + historyRows);
      expect(perDay.target).toEqual(perDay.source);
      expect(await duplicates(ch, db)).toEqual([]);
    });
  });
});
