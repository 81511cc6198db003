import { randomUUID } from 'node:crypto';
import type { ClickHouse } from '../../src/clickhouse/clickhouse';
import type { ImportSummary } from '../../src/shared/import-input';
import { createPypiTable, insertPypiRows } from '../../examples/demo/sql/pypi-demo';
import { CRASH_SAFETY, shadowTables, useCrashTest } from '../helpers/crash-workers';
import { createCrashTestPypi, createPypiWithViews, pypiImportJob, pypiViewTargets } from '../helpers/view-jobs';
import type { TableRef } from '../../src/shared/table-ref';
import { statementOf } from '../helpers/statement-of';

/*
 * An import's worker killed with SIGKILL during a batch's fill, between the fill and the move, right after one of
 * the batch's tables moved, and right after all of them moved (test/fixtures/crash-worker.ts); a fresh worker
 * finishes. Every table (pypi and both view targets) must then count every live and every history row exactly once:
 * no move is repeated into a second copy, and no fill is redone after a move.
 */

const historyDb = 'import_crash';
const history: TableRef = { database: historyDb, name: 'pypi_history' };
const LIVE_ROWS = 50_000;

/** Rows of a query. */
async function count(ch: ClickHouse, query: string): Promise<number> {
  const [row] = await ch.rows(
    statementOf<{ n: string }>({ query: `SELECT toString(count()) AS n FROM (${query})`, params: {} }),
  );
  return Number(row.n);
}

describe('crash recovery of an import: a worker killed with SIGKILL', () => {
  let historyRows: number;
  const crash = useCrashTest('import-crash', historyDb, async (ch) => {
    await createCrashTestPypi(ch, history);
    historyRows = await count(ch, `SELECT 1 FROM ${historyDb}.pypi_history`);
  });

  it.each([
    ['during the fill', 'insert:started@202401', 'fill'],
    ['between the fill and the move', 'insert:finished@202401', 'filled'],
    ['right after one of its tables moved', 'move:table@202401/pypi_downloads', 'one_moved'],
    ['right after all its tables moved', 'move:done@202401', 'all_moved'],
  ] as const)('%s: every table counts every row once', async (_, at, label) => {
    const db = `import_crash_${label}`;
    await crash.withClickHouse(async (ch) => {
      await ch.exec({ query: 'CREATE DATABASE {db:Identifier}', params: { db } });
      await createPypiWithViews(ch, db);
      // What ingestion wrote before the import: the checkpoint is its first row, 2024-06-01.
      await ch.exec(
        insertPypiRows({ database: db, name: 'pypi' }, LIVE_ROWS, '2024-06-01 00:00:00', '2024-06-15 00:00:00'),
      );
    });

    const job = pypiImportJob(db, { source: { table: `${historyDb}.pypi_history` }, safety: CRASH_SAFETY });
    const run = await crash.runUntilKilled<ImportSummary>(label, at, (client, taskQueue) =>
      client.workflow.start('importWorkflow', {
        taskQueue,
        workflowId: `import-crash-${label}-${randomUUID()}`,
        args: [{ job }],
      }),
    );
    const [point, partition] = at.split('@');
    expect(run.killed.steps().at(-1)).toBe(`${point} ${partition}`);

    const crashed = await crash.withClickHouse(async (ch) => ({
      pypi: await count(ch, `SELECT 1 FROM ${db}.pypi`),
      ...(await pypiViewTargets(ch, db)),
      duplicates: await shadowTables(ch, db),
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

    const { summary, recovered } = await crash.recover(label, run);
    expect(summary.partitions.map((p) => p.partition)).toEqual(['202402', '202401']);
    expect(summary.checkpoint).toBe('2024-06-01T00:00:00Z');
    expect(recovered.steps()).toContain(`${point} ${partition}`);
    await crash.withClickHouse(async (ch) => {
      expect(await count(ch, `SELECT 1 FROM ${db}.pypi`)).toBe(LIVE_ROWS + historyRows);
      const january = (table: string) => `SELECT * FROM ${table} WHERE toYYYYMM(timestamp) = 202401`;
      const [loaded, source] = await Promise.all(
        [`${db}.pypi`, `${historyDb}.pypi_history`].map(async (table) => {
          const [row] = await ch.rows(
            statementOf<{ d: string }>({
              query: `SELECT toString(groupBitXor(cityHash64(*))) AS d FROM (${january(table)})`,
              params: {},
            }),
          );
          return row.d;
        }),
      );
      expect(loaded).toBe(source);
      const { downloads, perDay } = await pypiViewTargets(ch, db);
      expect(downloads.target).toEqual(downloads.source);
      expect(Number(downloads.source.total)).toBe(LIVE_ROWS + historyRows);
      expect(perDay.target).toEqual(perDay.source);
      expect(await shadowTables(ch, db)).toEqual([]);
    });
  });

  it('of a chain, after the deepest target moved and before the next level: every level counts every row once', async () => {
    // pypi → pypi_hourly_mv → pypi_hourly → pypi_daily_mv → pypi_daily: the moves go pypi_daily, pypi_hourly, pypi.
    const db = 'import_crash_chain';
    const label = 'chain_deepest_moved';
    const at = 'move:table@202401/pypi_daily';
    const hourlyOfPypi = `SELECT toStartOfHour(timestamp) AS hour, project, count() AS n FROM ${db}.pypi GROUP BY hour, project`;
    const dailyOfPypi = `SELECT toDate(timestamp) AS day, project, count() AS n FROM ${db}.pypi GROUP BY day, project`;
    const hourly = `SELECT hour, project, sum(downloads) AS n FROM ${db}.pypi_hourly GROUP BY hour, project`;
    const daily = `SELECT day, project, sum(downloads) AS n FROM ${db}.pypi_daily GROUP BY day, project`;
    const total = async (ch: ClickHouse, query: string) => {
      const [row] = await ch.rows(
        statementOf<{ n: string; d: string }>({
          query: `SELECT toString(sum(n)) AS n, toString(groupBitXor(cityHash64(*))) AS d FROM (${query})`,
          params: {},
        }),
      );
      return row;
    };
    await crash.withClickHouse(async (ch) => {
      const exec = (query: string) => ch.exec({ query, params: {} });
      await exec(`CREATE DATABASE ${db}`);
      await ch.exec(createPypiTable({ database: db, name: 'pypi' }));
      await exec(`CREATE TABLE ${db}.pypi_hourly (hour DateTime, project String, downloads UInt64)
        ENGINE = MergeTree PARTITION BY toYYYYMM(hour) ORDER BY (project, hour)`);
      await exec(`CREATE MATERIALIZED VIEW ${db}.pypi_hourly_mv TO ${db}.pypi_hourly AS
        SELECT toStartOfHour(timestamp) AS hour, project, count() AS downloads FROM ${db}.pypi GROUP BY hour, project`);
      await exec(`CREATE TABLE ${db}.pypi_daily (day Date, project String, downloads UInt64)
        ENGINE = SummingMergeTree PARTITION BY toYYYYMM(day) ORDER BY (project, day)`);
      await exec(`CREATE MATERIALIZED VIEW ${db}.pypi_daily_mv TO ${db}.pypi_daily AS
        SELECT toDate(hour) AS day, project, sum(downloads) AS downloads FROM ${db}.pypi_hourly GROUP BY day, project`);
      await ch.exec(
        insertPypiRows({ database: db, name: 'pypi' }, LIVE_ROWS, '2024-06-01 00:00:00', '2024-06-15 00:00:00'),
      );
    });

    const job = pypiImportJob(db, { source: { table: `${historyDb}.pypi_history` }, safety: CRASH_SAFETY });
    const run = await crash.runUntilKilled<ImportSummary>(label, at, (client, taskQueue) =>
      client.workflow.start('importWorkflow', {
        taskQueue,
        workflowId: `import-crash-${label}-${randomUUID()}`,
        args: [{ job }],
      }),
    );
    expect(run.killed.steps().at(-1)).toBe('move:table 202401/pypi_daily');

    // Killed in the window: pypi_daily holds January, pypi_hourly and pypi not yet (their duplicates do).
    const february = 100_000;
    await crash.withClickHouse(async (ch) => {
      expect(await count(ch, `SELECT 1 FROM ${db}.pypi`)).toBe(LIVE_ROWS + february);
      expect(Number((await total(ch, daily)).n)).toBe(historyRows + LIVE_ROWS);
      expect(Number((await total(ch, hourly)).n)).toBe(february + LIVE_ROWS);
      expect(await shadowTables(ch, db)).toEqual(expect.arrayContaining(['pypi_hourly_v2_202401', 'pypi_v2_202401']));
    });

    const { summary, recovered } = await crash.recover(label, run);
    expect(summary.partitions.map((p) => p.partition)).toEqual(['202402', '202401']);
    expect(summary.tables).toEqual([`${db}.pypi`, `${db}.pypi_daily`, `${db}.pypi_hourly`]);
    expect(recovered.steps()).toContain('move:table 202401/pypi_hourly');
    await crash.withClickHouse(async (ch) => {
      // Each level exactly once: no second move of pypi_daily's January, and nothing of it lost at the others.
      expect(await count(ch, `SELECT 1 FROM ${db}.pypi`)).toBe(LIVE_ROWS + historyRows);
      expect(await total(ch, hourly)).toEqual(await total(ch, hourlyOfPypi));
      expect(await total(ch, daily)).toEqual(await total(ch, dailyOfPypi));
      expect(Number((await total(ch, daily)).n)).toBe(LIVE_ROWS + historyRows);
      expect(await shadowTables(ch, db)).toEqual([]);
    });
  });
});
