import { randomUUID } from 'node:crypto';
import type { ClickHouse } from '../../src/clickhouse/clickhouse';
import type { ImportSummary } from '../../src/shared/import-input';
import { insertPypiRows } from '../../examples/demo/sql/pypi-demo';
import { CRASH_SAFETY, shadowTables, useCrashTest } from '../helpers/crash-workers';
import { createCrashTestPypi, createPypiWithViews, pypiImportJob, pypiViewTargets } from '../helpers/view-jobs';
import {
  createMotoCollection,
  MOTO_COLLECTION,
  startMotoServer,
  type MotoServer,
} from '../../examples/demo/moto-server';
import type { TableRef } from '../../src/shared/table-ref';
import { statementOf } from '../helpers/statement-of';

/*
 * An import from Parquet files in an S3-compatible server (moto) whose worker is killed with SIGKILL during a
 * batch's INSERT and right after a batch's moves; a fresh worker finishes. pypi and both view targets must count
 * every row of the files and every live row exactly once, and the ledger must hold every file once.
 */

const historyDb = 'import_files_crash';
const history: TableRef = { database: historyDb, name: 'pypi_history' };
const LIVE_ROWS = 50_000;
const FILES = 4;

async function count(ch: ClickHouse, query: string): Promise<number> {
  const [row] = await ch.rows(
    statementOf<{ n: string }>({ query: `SELECT toString(count()) AS n FROM (${query})`, params: {} }),
  );
  return Number(row.n);
}

describe('crash recovery of an import from files: a worker killed with SIGKILL', () => {
  let s3: MotoServer;
  let historyRows: number;
  beforeAll(async () => {
    s3 = await startMotoServer();
  });
  afterAll(async () => {
    await s3?.stop();
  });
  const crash = useCrashTest('import-files-crash', historyDb, async (ch) => {
    await ch.exec({ query: createMotoCollection, params: {} });
    await createCrashTestPypi(ch, history);
    historyRows = await count(ch, `SELECT 1 FROM ${historyDb}.pypi_history`);
    for (let i = 0; i < FILES; i++) {
      await ch.exec({
        query: `INSERT INTO FUNCTION s3(${MOTO_COLLECTION}, url = {u:String}, format = 'Parquet')
          SELECT * FROM ${historyDb}.pypi_history WHERE cityHash64(url, timestamp) % ${FILES} = {i:UInt8}`,
        params: { u: s3.url(`crash/part-${i}.parquet`), i },
      });
    }
  });

  it.each([
    ['during a batch INSERT', 'insert:started@f0001', 'fill'],
    ['right after a batch moved', 'move:done@f0001', 'all_moved'],
  ] as const)('%s: every table counts every row once', async (_, at, label) => {
    const db = `import_files_crash_${label}`;
    await crash.withClickHouse(async (ch) => {
      await ch.exec({ query: 'CREATE DATABASE {db:Identifier}', params: { db } });
      await createPypiWithViews(ch, db);
      await ch.exec(
        insertPypiRows({ database: db, name: 'pypi' }, LIVE_ROWS, '2024-06-01 00:00:00', '2024-06-15 00:00:00'),
      );
    });

    const job = pypiImportJob(db, {
      source: { s3: s3.url('crash/*.parquet'), format: 'Parquet', namedCollection: MOTO_COLLECTION },
      fileBatches: { maxFiles: 2 },
      safety: CRASH_SAFETY,
    });
    const run = await crash.runUntilKilled<ImportSummary>(label, at, (client, taskQueue) =>
      client.workflow.start('importWorkflow', {
        taskQueue,
        workflowId: `import-files-crash-${label}-${randomUUID()}`,
        args: [{ job }],
      }),
    );
    const [point, partition] = at.split('@');
    expect(run.killed.steps().at(-1)).toBe(`${point} ${partition}`);

    const { summary, recovered } = await crash.recover(label, run);
    expect(summary.partitions.map((p) => p.partition)).toEqual(['f0001', 'f0002']);
    expect(recovered.steps()).toContain(`${point} ${partition}`);
    await crash.withClickHouse(async (ch) => {
      expect(await count(ch, `SELECT 1 FROM ${db}.pypi`)).toBe(LIVE_ROWS + historyRows);
      const digest = async (table: string) => {
        const [row] = await ch.rows(
          statementOf<{ d: string }>({
            query: `SELECT toString(groupBitXor(cityHash64(*))) AS d FROM ${table} WHERE timestamp < '2024-06-01'`,
            params: {},
          }),
        );
        return row.d;
      };
      expect(await digest(`${db}.pypi`)).toBe(await digest(`${historyDb}.pypi_history`));
      const { downloads, perDay } = await pypiViewTargets(ch, db);
      expect(downloads.target).toEqual(downloads.source);
      expect(Number(downloads.source.total)).toBe(LIVE_ROWS + historyRows);
      expect(perDay.target).toEqual(perDay.source);
      expect(await shadowTables(ch, db)).toEqual([]);
      const ledger = await ch.rows(
        statementOf<{ path: string; n: string }>({
          query: `SELECT path, toString(count()) AS n FROM ${db}._backfill_import_files GROUP BY path ORDER BY path`,
          params: {},
        }),
      );
      expect(ledger.map((l) => l.n)).toEqual(Array(FILES).fill('1'));
    });
  });
});
