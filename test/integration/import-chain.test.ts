import { randomUUID } from 'node:crypto';
import type { ImportInputRaw, ImportSummary } from '../../src/shared/import-input';
import { createPypiTable, insertPypiRows } from '../../examples/demo/sql/pypi-demo';
import { createHarness, type Harness } from '../helpers/backfill-harness';
import { freshDatabase } from '../helpers/chdb-env';
import { pypiImportJob, sqlTime, tablesOf, viewJobFile, whileIngesting } from '../helpers/view-jobs';
import { runCliOn } from '../helpers/run-cli-captured';
import { writeFileSync } from 'node:fs';
import type { TableRef } from '../../src/shared/table-ref';
import { statementOf } from '../helpers/statement-of';

/*
 * kind: import of a chain of views (A → A_target → B → B_target): pypi → pypi_hourly_mv → pypi_hourly →
 * pypi_daily_mv → pypi_daily, B reading A's target. Each batch duplicates both levels (the copy of pypi_daily_mv
 * reads the copy of pypi_hourly) and moves the deepest target first; each row of the history and of the ingestion
 * must be counted once at both levels.
 */
describe('kind: import — a two-level chain of views loaded exactly once while ingestion goes on', () => {
  let h: Harness;
  let db: string;
  let pypi: TableRef;
  const exec = (query: string) => h.ch.exec({ query, params: {} });
  /** An order-free digest of a query's rows, and how many. */
  const digest = async (query: string) =>
    (
      await h.ch.rows(
        statementOf<{ rows: string; digest: string }>({
          query: `SELECT toString(count()) AS rows, toString(groupBitXor(cityHash64(*))) AS digest FROM (${query})`,
          params: {},
        }),
      )
    )[0];

  beforeAll(async () => {
    h = await createHarness();
    db = await freshDatabase(h.ch, 'import_chain');
    pypi = { database: db, name: 'pypi' };
    await h.ch.exec(createPypiTable(pypi));
    // Level 1: downloads per hour and project into a plain MergeTree (one row per insert block and group).
    await exec(`CREATE TABLE ${db}.pypi_hourly (hour DateTime, project String, downloads UInt64)
      ENGINE = MergeTree PARTITION BY toYYYYMM(hour) ORDER BY (project, hour)`);
    await exec(`CREATE MATERIALIZED VIEW ${db}.pypi_hourly_mv TO ${db}.pypi_hourly AS
      SELECT toStartOfHour(timestamp) AS hour, project, count() AS downloads FROM ${db}.pypi GROUP BY hour, project`);
    // Level 2: reads level 1's target, sums per day into a SummingMergeTree.
    await exec(`CREATE TABLE ${db}.pypi_daily (day Date, project String, downloads UInt64)
      ENGINE = SummingMergeTree PARTITION BY toYYYYMM(day) ORDER BY (project, day)`);
    await exec(`CREATE MATERIALIZED VIEW ${db}.pypi_daily_mv TO ${db}.pypi_daily AS
      SELECT toDate(hour) AS day, project, sum(downloads) AS downloads FROM ${db}.pypi_hourly GROUP BY day, project`);
    const history: TableRef = { database: db, name: 'pypi_history' };
    await h.ch.exec(createPypiTable(history));
    await h.ch.exec(insertPypiRows(history, 200_000, '2024-01-01 00:00:00', '2024-03-01 00:00:00'));
    await h.ch.exec(insertPypiRows(history, 2_000, sqlTime(Date.now() - 3_600_000), sqlTime(Date.now() + 3_600_000)));
  });

  afterAll(async () => {
    await h?.close();
  });

  it("plan shows both levels duplicated, the second view copy reading the first target's duplicate", async () => {
    const before = await tablesOf(h.ch, db);
    // pypi is still empty: a checkpoint given (auto finds none).
    const checkpoint = sqlTime(Date.now() - 60_000).replace(' ', 'T') + 'Z';
    const plan = await h.withWorker(() => runCliOn(h, 'plan', '--job', viewJobFile(pypiImportJob(db, { checkpoint }))));
    if (process.env.PLAN_OUT) writeFileSync(process.env.PLAN_OUT, plan.out);
    expect(plan.err).toBe('');
    expect(plan.out).toMatch(/pypi_daily_mv_v2_202401_\w+ \(materialized view\)/);
    expect(plan.out).toMatch(/FROM `import_chain_\w+`\.`pypi_hourly_v2_202401_\w+`/);
    expect(await tablesOf(h.ch, db)).toEqual(before);
  });

  it('both targets equal their queries over the whole source, the deepest validated against its copy', async () => {
    const { result: summary } = await h.withWorker(() =>
      whileIngesting(h.ch, pypi, async () => {
        while (Number((await digest(`SELECT 1 FROM ${db}.pypi`)).rows) === 0) {
          await new Promise((r) => setTimeout(r, 50));
        }
        return h.env.client.workflow.execute('importWorkflow', {
          taskQueue: h.taskQueue,
          workflowId: `import-chain-${randomUUID()}`,
          args: [{ job: pypiImportJob(db) } satisfies ImportInputRaw],
        }) as Promise<ImportSummary>;
      }),
    );
    expect(summary.failed).toEqual([]);
    expect(summary.partitions.map((p) => p.partition).slice(-2)).toEqual(['202402', '202401']);
    // The deepest target first, then level 1: the order of the moves.
    expect(summary.tables).toEqual([`${db}.pypi`, `${db}.pypi_daily`, `${db}.pypi_hourly`]);
    expect(Object.keys(summary.totals.checksPassed)).toEqual(
      expect.arrayContaining([
        'pypi: rows = history rows of the batch',
        'pypi_daily: sum(downloads) = its views over the batch',
      ]),
    );

    const hourly = `SELECT hour, project, sum(downloads) FROM ${db}.pypi_hourly GROUP BY hour, project`;
    const hourlyOfSource = `SELECT toStartOfHour(timestamp) AS hour, project, count() FROM ${db}.pypi GROUP BY hour, project`;
    const daily = `SELECT day, project, sum(downloads) FROM ${db}.pypi_daily GROUP BY day, project`;
    const dailyOfSource = `SELECT toDate(timestamp) AS day, project, count() FROM ${db}.pypi GROUP BY day, project`;
    const hourlyDigest = await digest(hourly);
    expect(hourlyDigest).toEqual(await digest(hourlyOfSource));
    expect(await digest(daily)).toEqual(await digest(dailyOfSource));
    expect(Number(hourlyDigest.rows)).toBeGreaterThan(1000);
    expect((await tablesOf(h.ch, db)).filter((t) => t.includes('_v2_'))).toEqual([]);
  });
});
