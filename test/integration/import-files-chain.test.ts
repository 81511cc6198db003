import { randomUUID } from 'node:crypto';
import {
  createMotoCollection,
  MOTO_COLLECTION,
  startMotoServer,
  type MotoServer,
} from '../../examples/demo/moto-server';
import { createPypiTable, insertPypiRows } from '../../examples/demo/sql/pypi-demo';
import type { ImportInputRaw, ImportSummary } from '../../src/shared/import-input';
import type { TableRef } from '../../src/shared/table-ref';
import { createHarness, type Harness } from '../helpers/backfill-harness';
import { freshDatabase } from '../helpers/chdb-env';
import { statementOf } from '../helpers/statement-of';
import { pypiImportJob, sqlTime, tablesOf, whileIngesting } from '../helpers/view-jobs';

/*
 * kind: import from files of a chain of views (live table → A → A_target → B → B_target): pypi → pypi_hourly_mv →
 * pypi_hourly → pypi_daily_mv → pypi_daily, Parquet files in a real S3-compatible server (moto) loaded in glob
 * batches while rows are ingested. Every level must hold each imported row (and each ingested one) exactly once.
 */
describe('kind: import from s3 — a two-level chain of views loaded exactly once from Parquet batches', () => {
  let h: Harness;
  let s3: MotoServer;
  let db: string;
  let pypi: TableRef;
  const exec = (query: string, params: Record<string, unknown> = {}) => h.ch.exec({ query, params });
  const PYPI_COLUMNS = 'timestamp, country_code, url, project, type, installer, python_minor, system';
  /** An order-free digest of a query's rows, and how many. */
  const digest = async (query: string, params: Record<string, unknown> = {}) =>
    (
      await h.ch.rows(
        statementOf<{ rows: string; digest: string }>({
          query: `SELECT toString(count()) AS rows, toString(groupBitXor(cityHash64(*))) AS digest FROM (${query})`,
          params,
        }),
      )
    )[0];

  beforeAll(async () => {
    s3 = await startMotoServer();
    h = await createHarness();
    await exec(createMotoCollection);
    db = await freshDatabase(h.ch, 'import_files_chain');
    pypi = { database: db, name: 'pypi' };
    await h.ch.exec(createPypiTable(pypi));
    await exec(`CREATE TABLE ${db}.pypi_hourly (hour DateTime, project String, downloads UInt64)
      ENGINE = MergeTree PARTITION BY toYYYYMM(hour) ORDER BY (project, hour)`);
    await exec(`CREATE MATERIALIZED VIEW ${db}.pypi_hourly_mv TO ${db}.pypi_hourly AS
      SELECT toStartOfHour(timestamp) AS hour, project, count() AS downloads FROM ${db}.pypi GROUP BY hour, project`);
    await exec(`CREATE TABLE ${db}.pypi_daily (day Date, project String, downloads UInt64)
      ENGINE = SummingMergeTree PARTITION BY toYYYYMM(day) ORDER BY (project, day)`);
    await exec(`CREATE MATERIALIZED VIEW ${db}.pypi_daily_mv TO ${db}.pypi_daily AS
      SELECT toDate(hour) AS day, project, sum(downloads) AS downloads FROM ${db}.pypi_hourly GROUP BY day, project`);
    const history: TableRef = { database: db, name: 'history' };
    await h.ch.exec(createPypiTable(history));
    await h.ch.exec(insertPypiRows(history, 90_000, '2024-01-01 00:00:00', '2024-04-01 00:00:00'));
    // An hour either side of now: the half after the checkpoint must be left out.
    await h.ch.exec(insertPypiRows(history, 2_000, sqlTime(Date.now() - 3_600_000), sqlTime(Date.now() + 3_600_000)));
    await h.ch.exec(createPypiTable({ database: db, name: 'written' }));
    for (let i = 0; i < 8; i++) {
      const where = 'cityHash64(url, timestamp) % 8 = {i:UInt8}';
      await exec(
        `INSERT INTO FUNCTION s3(${MOTO_COLLECTION}, url = {u:String}, format = 'Parquet') SELECT ${PYPI_COLUMNS} FROM ${db}.history WHERE ${where}`,
        { i, u: s3.url(`chain/part-${i}.parquet`) },
      );
      await exec(`INSERT INTO ${db}.written SELECT ${PYPI_COLUMNS} FROM ${db}.history WHERE ${where}`, { i });
    }
  }, 120_000);

  afterAll(async () => {
    await h?.close();
    await s3?.stop();
  });

  it('every level holds the files rows before the checkpoint and the ingested rows, each once', async () => {
    const { result: summary, ingested } = await h.withWorker(() =>
      whileIngesting(h.ch, pypi, async () => {
        while (Number((await digest(`SELECT 1 FROM ${db}.pypi`)).rows) === 0) {
          await new Promise((r) => setTimeout(r, 50));
        }
        const input: ImportInputRaw = {
          job: pypiImportJob(db, {
            source: { s3: s3.url('chain/*.parquet'), format: 'Parquet', namedCollection: MOTO_COLLECTION },
            parallelism: 2,
            fileBatches: { maxFiles: 3 },
          }),
        };
        return h.env.client.workflow.execute('importWorkflow', {
          taskQueue: h.taskQueue,
          workflowId: `import-files-chain-${randomUUID()}`,
          args: [input],
        }) as Promise<ImportSummary>;
      }),
    );
    expect(summary.failed).toEqual([]);
    expect(summary.partitions.map((p) => p.partition)).toEqual(['f0001', 'f0002', 'f0003']);
    expect(summary.tables).toEqual([`${db}.pypi`, `${db}.pypi_daily`, `${db}.pypi_hourly`]);
    const checkpoint = Date.parse(summary.checkpoint) / 1000;

    // pypi: the files' rows before the checkpoint exactly, and every ingested row after it.
    const before = 'timestamp < toDateTime({c:UInt32})';
    const files = await digest(`SELECT * FROM ${db}.written WHERE ${before}`, { c: checkpoint });
    expect(await digest(`SELECT * FROM ${db}.pypi WHERE ${before}`, { c: checkpoint })).toEqual(files);
    expect(Number(files.rows)).toBeGreaterThan(90_000);
    const live = await digest(`SELECT 1 FROM ${db}.pypi WHERE NOT (${before})`, { c: checkpoint });
    expect(Number(live.rows)).toBe(ingested);

    // Both levels equal their queries over the whole of pypi: no row counted twice or missed at any level.
    const hourly = await digest(`SELECT hour, project, sum(downloads) FROM ${db}.pypi_hourly GROUP BY hour, project`);
    expect(hourly).toEqual(
      await digest(`SELECT toStartOfHour(timestamp) AS hour, project, count() FROM ${db}.pypi GROUP BY hour, project`),
    );
    expect(await digest(`SELECT day, project, sum(downloads) FROM ${db}.pypi_daily GROUP BY day, project`)).toEqual(
      await digest(`SELECT toDate(timestamp) AS day, project, count() FROM ${db}.pypi GROUP BY day, project`),
    );
    expect(Number(hourly.rows)).toBeGreaterThan(1000);
    expect((await tablesOf(h.ch, db)).filter((t) => t.includes('_v2_'))).toEqual([]);
  });
});
