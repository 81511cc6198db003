import { randomUUID } from 'node:crypto';
import type { ClickHouse } from '../../src/clickhouse/clickhouse';
import type { ImportInputRaw, ImportSummary } from '../../src/shared/import-input';
import type { ImportJobInput } from '../../src/shared/job-spec';
import { createPypiTable, insertPypiRows } from '../../examples/demo/sql/pypi-demo';
import { createHarness, type Harness } from '../helpers/backfill-harness';
import { freshDatabase } from '../helpers/chdb-env';
import {
  createPypiWithViews,
  pypiImportJob,
  pypiViewTargets,
  refusalOf,
  sqlTime,
  tablesOf,
  targetAndSource,
  whileIngesting,
} from '../helpers/view-jobs';
import type { TableRef } from '../../src/shared/table-ref';
import { statementOf } from '../helpers/statement-of';

/*
 * kind: import (the guide's scenario 1): history loaded into `pypi` and every view target fed from it while rows
 * are ingested into `pypi` the whole time. Each ingested row must be counted once (by the live views), each history
 * row before the checkpoint once (by the import), in the main table and in every target.
 */

/** Rows and an order-free digest of a query's rows. */
async function digest(ch: ClickHouse, query: string, params: Record<string, unknown> = {}) {
  const [row] = await ch.rows(
    statementOf<{ rows: string; digest: string }>({
      query: `SELECT toString(count()) AS rows, toString(groupBitXor(cityHash64(*))) AS digest FROM (${query})`,
      params,
    }),
  );
  return row;
}

describe('kind: import — history loaded into a table and all its view targets while ingestion goes on', () => {
  let h: Harness;
  let db: string;
  let pypi: TableRef;
  const exec = (query: string) => h.ch.exec({ query, params: {} });

  beforeAll(async () => {
    h = await createHarness();
    db = await freshDatabase(h.ch, 'import');
    pypi = { database: db, name: 'pypi' };
    // The guide's two views, and two more: -State columns into an AggregatingMergeTree, rows kept as they are.
    await createPypiWithViews(h.ch, db);
    await exec(`CREATE TABLE ${db}.pypi_states (project String, n AggregateFunction(count),
      installers AggregateFunction(uniq, String)) ENGINE = AggregatingMergeTree ORDER BY project`);
    await exec(`CREATE MATERIALIZED VIEW ${db}.pypi_states_mv TO ${db}.pypi_states AS
      SELECT project, countState() AS n, uniqState(installer) AS installers FROM ${db}.pypi GROUP BY project`);
    await exec(`CREATE TABLE ${db}.pypi_sdists (timestamp DateTime, project String, url String)
      ENGINE = MergeTree PARTITION BY toYYYYMM(timestamp) ORDER BY (project, timestamp)`);
    await exec(`CREATE MATERIALIZED VIEW ${db}.pypi_sdists_mv TO ${db}.pypi_sdists AS
      SELECT timestamp, project, url FROM ${db}.pypi WHERE type = 'sdist'`);
    // History: three months, and an hour either side of now, half of which overlaps the live rows to come.
    const history: TableRef = { database: db, name: 'pypi_history' };
    await h.ch.exec(createPypiTable(history));
    await h.ch.exec(insertPypiRows(history, 300_000, '2024-01-01 00:00:00', '2024-04-01 00:00:00'));
    await h.ch.exec(insertPypiRows(history, 2_000, sqlTime(Date.now() - 3_600_000), sqlTime(Date.now() + 3_600_000)));
  });

  afterAll(async () => {
    await h?.close();
  });

  const execute = (input: ImportInputRaw) =>
    h.env.client.workflow.execute('importWorkflow', {
      taskQueue: h.taskQueue,
      workflowId: `import-${randomUUID()}`,
      args: [input],
    }) as Promise<ImportSummary>;

  it('every history row before the checkpoint lands once in pypi and each view target; ingested rows too', async () => {
    const { result: summary, ingested } = await h.withWorker(() =>
      whileIngesting(h.ch, pypi, async () => {
        // The live table must hold rows: the checkpoint is its first one.
        while (Number((await digest(h.ch, `SELECT 1 FROM ${db}.pypi`)).rows) === 0) {
          await new Promise((r) => setTimeout(r, 50));
        }
        return execute({ job: pypiImportJob(db) });
      }),
    );

    const checkpoint = Date.parse(summary.checkpoint) / 1000;
    const thisMonth = new Date().toISOString().slice(0, 7).replace('-', '');
    const batches = summary.partitions.map((p) => p.partition);
    expect(batches.slice(-3)).toEqual(['202403', '202402', '202401']);
    expect(batches[0]).toBe(thisMonth);
    expect(summary.failed).toEqual([]);
    expect(Object.keys(summary.totals.checksPassed)).toEqual(
      expect.arrayContaining([
        'pypi: rows = history rows of the batch',
        'pypi_downloads: sum(count) = its views over the batch',
        'pypi_downloads_per_day: sum(count) = its views over the batch',
        'pypi_states: countMerge(n) = its views over the batch',
        'pypi_sdists: rows = rows of its views over the batch',
      ]),
    );

    // pypi: the history before the checkpoint exactly, and every ingested row.
    const before = `timestamp < toDateTime({checkpoint:UInt32})`;
    const history = await digest(h.ch, `SELECT * FROM ${db}.pypi_history WHERE ${before}`, { checkpoint });
    const loaded = await digest(h.ch, `SELECT * FROM ${db}.pypi WHERE ${before}`, { checkpoint });
    expect(loaded).toEqual(history);
    expect(Number(history.rows)).toBeGreaterThan(300_000);
    expect(summary.rowsRead).toBe(Number(history.rows));
    const live = await digest(h.ch, `SELECT 1 FROM ${db}.pypi WHERE NOT ${before}`, { checkpoint });
    expect(Number(live.rows)).toBe(ingested);

    // Every view target equals its view's query over every row of pypi.
    const { downloads, perDay } = await pypiViewTargets(h.ch, db);
    expect(downloads.target).toEqual(downloads.source);
    expect(Number(downloads.source.total)).toBe(Number(history.rows) + ingested);
    expect(perDay.target).toEqual(perDay.source);
    const states = await targetAndSource(h.ch, db, 'pypi_states', 'project', 'countMerge(n)', 'project');
    expect(states.target).toEqual(states.source);
    const installers = (q: string) => digest(h.ch, q);
    expect(await installers(`SELECT project, uniqMerge(installers) FROM ${db}.pypi_states GROUP BY project`)).toEqual(
      await installers(`SELECT project, uniq(installer) FROM ${db}.pypi GROUP BY project`),
    );
    expect(await digest(h.ch, `SELECT * FROM ${db}.pypi_sdists`)).toEqual(
      await digest(h.ch, `SELECT timestamp, project, url FROM ${db}.pypi WHERE type = 'sdist'`),
    );
    expect((await tablesOf(h.ch, db)).filter((t) => t.includes('_v2_'))).toEqual([]);
  });

  it('run again with checkpoint auto, it finds no history before the first row and changes nothing', async () => {
    const before = await digest(h.ch, `SELECT * FROM ${db}.pypi`);
    const summary = await h.withWorker(() => execute({ job: pypiImportJob(db) }));
    expect(summary.partitions).toEqual([]);
    expect(await digest(h.ch, `SELECT * FROM ${db}.pypi`)).toEqual(before);
  });

  describe('bad input is refused before any DDL, naming the field', () => {
    const refusal = (job: ImportJobInput): Promise<string> =>
      refusalOf(h.ch, db, () => h.withWorker(() => execute({ job })));
    /** A main table like pypi with one live row, and `view` (its SELECT given `main`) reading it. */
    const mainWith = async (main: string, view?: (main: string) => string): Promise<ImportJobInput> => {
      await exec(`CREATE TABLE ${db}.${main} AS ${db}.pypi`);
      await exec(`INSERT INTO ${db}.${main} SELECT * FROM ${db}.pypi ORDER BY timestamp DESC LIMIT 1`);
      if (view) {
        await exec(`CREATE TABLE ${db}.${main}_counts AS ${db}.pypi_downloads`);
        await exec(`CREATE MATERIALIZED VIEW ${db}.${main}_mv TO ${db}.${main}_counts AS ${view(`${db}.${main}`)}`);
      }
      return pypiImportJob(db, { target: { table: `${db}.${main}`, timeColumn: 'timestamp' } });
    };

    it('a main table that does not exist', async () => {
      const job = pypiImportJob(db, { target: { table: `${db}.nowhere`, timeColumn: 'timestamp' } });
      expect(await refusal(job)).toMatch(/^target\.table: table import_\w+\.nowhere does not exist/);
    });

    it('a time column that does not exist', async () => {
      const job = pypiImportJob(db, { target: { table: `${db}.pypi`, timeColumn: 'ts' } });
      expect(await refusal(job)).toMatch(/^target\.timeColumn: column "ts" does not exist/);
    });

    it('a history without a column of the main table, or with another type', async () => {
      await exec(`CREATE TABLE ${db}.history_short AS ${db}.pypi_history`);
      await exec(`ALTER TABLE ${db}.history_short DROP COLUMN system`);
      await exec(`CREATE TABLE ${db}.history_typed AS ${db}.pypi_history`);
      await exec(`ALTER TABLE ${db}.history_typed MODIFY COLUMN url Nullable(String)`);
      expect(await refusal(pypiImportJob(db, { source: { table: `${db}.history_short` } }))).toMatch(
        /^source\.table: .*history_short has no column "system"/,
      );
      expect(await refusal(pypiImportJob(db, { source: { table: `${db}.history_typed` } }))).toMatch(
        /^source\.table: column "url" is Nullable\(String\) in .*history_typed and String in/,
      );
    });

    it('a checkpoint in the future', async () => {
      const job = pypiImportJob(db, { checkpoint: '2100-01-01T00:00:00Z' });
      expect(await refusal(job)).toMatch(/^checkpoint: 2100-01-01T00:00:00Z is in the future/);
    });

    it('a checkpoint after rows the live table already holds: the history would double them', async () => {
      const job = pypiImportJob(db, { checkpoint: sqlTime(Date.now()).replace(' ', 'T') + 'Z' });
      expect(await refusal(job)).toMatch(/^checkpoint: .*pypi already holds rows before .*would double them/);
    });

    it('an empty live table with checkpoint auto', async () => {
      await exec(`CREATE TABLE ${db}.empty_main AS ${db}.pypi`);
      const job = pypiImportJob(db, { target: { table: `${db}.empty_main`, timeColumn: 'timestamp' } });
      expect(await refusal(job)).toMatch(/^checkpoint: .*empty_main holds no rows, so auto finds no checkpoint/);
    });

    it('a view that joins another table', async () => {
      const job = await mainWith(
        'joined',
        (m) => `SELECT p.project AS project, count() AS count FROM ${m} AS p
          INNER JOIN ${db}.pypi_downloads AS d ON p.project = d.project GROUP BY project`,
      );
      expect(await refusal(job)).toMatch(
        /^target\.table: materialized view import_\w+\.joined_mv reads .*joined: its SELECT cannot be re-pointed .*joins/,
      );
    });

    it('a view that reads the table twice', async () => {
      const job = await mainWith(
        'twice',
        (m) =>
          `SELECT project, count() AS count FROM ${m} WHERE project IN (SELECT project FROM ${m}) GROUP BY project`,
      );
      expect(await refusal(job)).toMatch(
        /^target\.table: materialized view .*twice_mv .*reads import_\w+\.twice 2 times/,
      );
    });

    it('a chain of views that writes back into a table read earlier in it (a cycle)', async () => {
      const job = await mainWith('cycled', (m) => `SELECT project, count() AS count FROM ${m} GROUP BY project`);
      await exec(`CREATE TABLE ${db}.cycled_more AS ${db}.pypi_downloads`);
      await exec(`CREATE MATERIALIZED VIEW ${db}.cycled_more_mv TO ${db}.cycled_more
        AS SELECT project, sum(count) AS count FROM ${db}.cycled_counts GROUP BY project`);
      await exec(`CREATE MATERIALIZED VIEW ${db}.cycled_back_mv TO ${db}.cycled_counts
        AS SELECT project, sum(count) AS count FROM ${db}.cycled_more GROUP BY project`);
      expect(await refusal(job)).toMatch(
        /^target\.table: materialized view import_\w+\.cycled_back_mv reads import_\w+\.cycled_more: it writes into import_\w+\.cycled_counts, read earlier in the chain of views \(a cycle\)/,
      );
    });

    it('a view without a TO table', async () => {
      const job = await mainWith('inner_main');
      await exec(`CREATE MATERIALIZED VIEW ${db}.inner_main_mv ENGINE = SummingMergeTree ORDER BY project
        AS SELECT project, count() AS count FROM ${db}.inner_main GROUP BY project`);
      expect(await refusal(job)).toMatch(/^target\.table: materialized view .*inner_main_mv .*has no TO table/);
    });
  });
});
