import { progressQuery } from '../../src/shared/messages';
import {
  createMotoCollection,
  MOTO_COLLECTION,
  startMotoServer,
  type MotoServer,
} from '../../examples/demo/moto-server';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { ClickHouse } from '../../src/clickhouse/clickhouse';
import type { ImportInputRaw, ImportSummary } from '../../src/shared/import-input';
import { createPypiTable, insertPypiRows } from '../../examples/demo/sql/pypi-demo';
import { createHarness, type Harness } from '../helpers/backfill-harness';
import { freshDatabase } from '../helpers/chdb-env';
import { createPypiWithViews, pypiImportJob, pypiViewTargets, sqlTime, whileIngesting } from '../helpers/view-jobs';
import type { TableRef } from '../../src/shared/table-ref';
import { statementOf } from '../helpers/statement-of';

/*
 * kind: import from files in object storage (the guide's scenario 1 as written: `s3('…/*.parquet')`): Parquet
 * files written by the engine into a real S3-compatible server (moto), loaded batch by batch into `pypi` and its
 * two views while rows are ingested; then only new files, a changed file, and a corrupt file.
 */

async function digest(ch: ClickHouse, query: string, params: Record<string, unknown> = {}) {
  const [row] = await ch.rows(
    statementOf<{ rows: string; digest: string }>({
      query: `SELECT toString(count()) AS rows, toString(groupBitXor(cityHash64(*))) AS digest FROM (${query})`,
      params,
    }),
  );
  return row;
}

describe('kind: import from s3 — Parquet files batch by batch, exactly once', () => {
  let h: Harness;
  let s3: MotoServer;
  let db: string;
  let pypi: TableRef;
  /** Every row written to a file, as the file holds it. */
  let written: TableRef;
  let checkpoint = 0;
  const exec = (query: string, params: Record<string, unknown> = {}) => h.ch.exec({ query, params });
  const PYPI_COLUMNS = 'timestamp, country_code, url, project, type, installer, python_minor, system';

  /** Writes `rows` into the bucket as `key` (Parquet, by the engine itself) and into `written`. */
  async function writeFile(key: string, from: TableRef, where: string, params: Record<string, unknown> = {}) {
    await exec(
      `INSERT INTO FUNCTION s3(${MOTO_COLLECTION}, url = {u:String}, format = 'Parquet') SELECT ${PYPI_COLUMNS} FROM ${from.database}.${from.name} WHERE ${where}`,
      { ...params, u: s3.url(key) },
    );
    await exec(
      `INSERT INTO ${db}.written SELECT ${PYPI_COLUMNS} FROM ${from.database}.${from.name} WHERE ${where}`,
      params,
    );
  }

  beforeAll(async () => {
    s3 = await startMotoServer();
    h = await createHarness();
    await exec(createMotoCollection);
    db = await freshDatabase(h.ch, 'import_files');
    pypi = { database: db, name: 'pypi' };
    await createPypiWithViews(h.ch, db);
    written = { database: db, name: 'written' };
    await h.ch.exec(createPypiTable(written));
    const history: TableRef = { database: db, name: 'history' };
    await h.ch.exec(createPypiTable(history));
    await h.ch.exec(insertPypiRows(history, 120_000, '2024-01-01 00:00:00', '2024-04-01 00:00:00'));
    // An hour either side of now: the half after the checkpoint must be left out.
    await h.ch.exec(insertPypiRows(history, 2_000, sqlTime(Date.now() - 3_600_000), sqlTime(Date.now() + 3_600_000)));
    for (let i = 0; i < 24; i++) {
      const key = `pypi/2024/part-${String(i).padStart(2, '0')}.parquet`;
      await writeFile(key, history, 'cityHash64(url, timestamp) % 24 = {i:UInt8}', { i });
    }
  }, 120_000);

  afterAll(async () => {
    await h?.close();
    await s3?.stop();
  });

  let lastWorkflowId = '';
  const execute = (input: ImportInputRaw) =>
    h.env.client.workflow.execute('importWorkflow', {
      taskQueue: h.taskQueue,
      workflowId: (lastWorkflowId = `import-files-${randomUUID()}`),
      args: [input],
    }) as Promise<ImportSummary>;

  const job = (glob: string, maxFiles = 5) =>
    pypiImportJob(db, {
      source: { s3: s3.url(glob), format: 'Parquet', namedCollection: MOTO_COLLECTION },
      parallelism: 2,
      fileBatches: { maxFiles },
    });

  /** pypi before the checkpoint holds exactly `written` before it, and each target equals its view over pypi. */
  async function expectExact() {
    const before = 'timestamp < toDateTime({checkpoint:UInt32})';
    const expected = await digest(h.ch, `SELECT * FROM ${db}.written WHERE ${before}`, { checkpoint });
    const loaded = await digest(h.ch, `SELECT * FROM ${db}.pypi WHERE ${before}`, { checkpoint });
    expect(loaded).toEqual(expected);
    const { downloads, perDay } = await pypiViewTargets(h.ch, db);
    expect(downloads.target).toEqual(downloads.source);
    expect(perDay.target).toEqual(perDay.source);
    return Number(expected.rows);
  }

  it('loads 24 Parquet files in batches into pypi and both view targets while ingestion goes on', async () => {
    const { result: summary, ingested } = await h.withWorker(() =>
      whileIngesting(h.ch, pypi, async () => {
        while (Number((await digest(h.ch, `SELECT 1 FROM ${db}.pypi`)).rows) === 0) {
          await new Promise((r) => setTimeout(r, 50));
        }
        return execute({ job: job('pypi/2024/*.parquet') });
      }),
    );
    checkpoint = Date.parse(summary.checkpoint) / 1000;
    expect(summary.failed).toEqual([]);
    expect(summary.partitions.map((p) => p.partition)).toEqual(['f0001', 'f0002', 'f0003', 'f0004', 'f0005']);
    const rows = await expectExact();
    expect(rows).toBeGreaterThan(120_000);
    expect(summary.rowsRead).toBe(rows);
    const live = await digest(h.ch, `SELECT 1 FROM ${db}.pypi WHERE timestamp >= toDateTime({c:UInt32})`, {
      c: checkpoint,
    });
    expect(Number(live.rows)).toBe(ingested);
    const [ledger] = await h.ch.rows(
      statementOf<{ files: string; rows: string }>({
        query: `SELECT toString(count()) AS files, toString(sum(rows)) AS rows FROM ${db}._backfill_import_files`,
        params: {},
      }),
    );
    expect(ledger).toEqual({ files: '24', rows: String(rows) });
    // The record read validation's per-file counts, kept beside the ledger, not the files again.
    const [counts] = await h.ch.rows(
      statementOf<{ files: string; rows: string }>({
        query: `SELECT toString(count()) AS files, toString(sum(rows)) AS rows FROM ${db}._backfill_import_file_counts`,
        params: {},
      }),
    );
    expect(counts).toEqual({ files: '24', rows: String(rows) });
    const progress = await h.withWorker(() => h.env.client.workflow.getHandle(lastWorkflowId).query(progressQuery));
    expect(progress.files).toMatchObject({ files: 24, filesDone: 24, current: [] });
    expect(progress.files?.bytesDone).toBe(progress.files?.bytes);
  }, 300_000);

  it('a second run with only missing loads only the files added since', async () => {
    const older: TableRef = { database: db, name: 'older' };
    await h.ch.exec(createPypiTable(older));
    await h.ch.exec(insertPypiRows(older, 3_000, '2023-12-01 00:00:00', '2024-01-01 00:00:00'));
    for (let i = 0; i < 3; i++) {
      await writeFile(`pypi/2024/new-${i}.parquet`, older, 'cityHash64(url, timestamp) % 3 = {i:UInt8}', { i });
    }
    const summary = await h.withWorker(() => execute({ job: job('pypi/2024/*.parquet'), only: 'missing' }));
    expect(summary.failed).toEqual([]);
    expect(summary.partitions).toHaveLength(1);
    expect(summary.rowsRead).toBe(3_000);
    await expectExact();
  }, 300_000);

  it('a corrupt file fails only its batch, named; a rerun of the failed batches completes the load', async () => {
    const more: TableRef = { database: db, name: 'more' };
    await h.ch.exec(createPypiTable(more));
    await h.ch.exec(insertPypiRows(more, 2_000, '2023-11-01 00:00:00', '2023-12-01 00:00:00'));
    await writeFile('pypi/2024/z-good.parquet', more, 'cityHash64(url) % 2 = 0');
    const bad = s3.url('pypi/2024/z-bad.parquet');
    await fetch(bad, { method: 'PUT', body: 'this is not a Parquet file' });
    // The run fails naming the file; the other batch is moved.
    const failed = await h
      .withWorker(() => execute({ job: job('pypi/2024/*.parquet', 1), only: 'missing' }))
      .then(
        () => undefined,
        (err: Error) => err,
      );
    expect((failed?.cause as Error | undefined)?.message).toMatch(/1 of 2 partitions failed: f0001 .*z-bad\.parquet/);
    // The good batch is in; the bad file's rows are not in `written` yet, so the tables are exact.
    await expectExact();

    // The file is replaced by a readable one; `--only failed` loads exactly what failed.
    await exec(
      `INSERT INTO FUNCTION s3(${MOTO_COLLECTION}, url = {u:String}, format = 'Parquet') SELECT ${PYPI_COLUMNS} FROM ${db}.more WHERE cityHash64(url) % 2 = 1 SETTINGS s3_truncate_on_insert = 1`,
      { u: bad },
    );
    await exec(`INSERT INTO ${db}.written SELECT ${PYPI_COLUMNS} FROM ${db}.more WHERE cityHash64(url) % 2 = 1`);
    const rerun = await h.withWorker(() => execute({ job: job('pypi/2024/*.parquet', 1), only: 'failed' }));
    expect(rerun.failed).toEqual([]);
    expect(rerun.partitions).toHaveLength(1);
    await expectExact();
  }, 300_000);

  it('a file changed since it was loaded is reported, not loaded again', async () => {
    const before = await digest(h.ch, `SELECT * FROM ${db}.pypi WHERE timestamp < toDateTime({c:UInt32})`, {
      c: checkpoint,
    });
    await exec(
      `INSERT INTO FUNCTION s3(${MOTO_COLLECTION}, url = {u:String}, format = 'Parquet') SELECT ${PYPI_COLUMNS} FROM ${db}.more LIMIT 10 SETTINGS s3_truncate_on_insert = 1`,
      { u: s3.url('pypi/2024/part-00.parquet') },
    );
    const summary = await h.withWorker(() => execute({ job: job('pypi/2024/*.parquet'), only: 'missing' }));
    expect(summary.changedFiles).toEqual([`${s3.bucket}/pypi/2024/part-00.parquet`]);
    expect(summary.partitions).toHaveLength(0);
    const after = await digest(h.ch, `SELECT * FROM ${db}.pypi WHERE timestamp < toDateTime({c:UInt32})`, {
      c: checkpoint,
    });
    expect(after).toEqual(before);
  }, 300_000);

  it('file: CSVWithNames files on the machine of the engine load the same way', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'import-files-'));
    const fdb = await freshDatabase(h.ch, 'import_local');
    await createPypiWithViews(h.ch, fdb);
    const fpypi = { database: fdb, name: 'pypi' };
    await h.ch.exec(insertPypiRows(fpypi, 1_000, '2024-06-01 00:00:00', '2024-06-02 00:00:00'));
    for (let i = 0; i < 3; i++) {
      await exec(
        `INSERT INTO FUNCTION file({p:String}, 'CSVWithNames') SELECT ${PYPI_COLUMNS} FROM ${db}.history
          WHERE timestamp < '2024-06-01' AND cityHash64(url) % 3 = {i:UInt8}`,
        { p: path.join(dir, `part-${i}.csv`), i },
      );
    }
    const summary = await h.withWorker(() =>
      execute({
        job: pypiImportJob(fdb, { source: { file: path.join(dir, '*.csv'), format: 'CSVWithNames' } }),
      }),
    );
    expect(summary.failed).toEqual([]);
    expect(summary.partitions.map((p) => p.partition)).toEqual(['f0001']);
    const before = "timestamp < '2024-06-01'";
    expect(await digest(h.ch, `SELECT * FROM ${fdb}.pypi WHERE ${before}`)).toEqual(
      await digest(h.ch, `SELECT * FROM ${db}.history WHERE ${before}`),
    );
    const downloads = await pypiViewTargets(h.ch, fdb);
    expect(downloads.downloads.target).toEqual(downloads.downloads.source);
    expect(downloads.perDay.target).toEqual(downloads.perDay.source);
    rmSync(dir, { recursive: true, force: true });
  }, 300_000);
});
