import { randomUUID } from 'node:crypto';
import type { ViewJobInput } from '../../src/shared/job-spec';
import type { ViewBackfillInputRaw, ViewBackfillSummary } from '../../src/shared/view-input';
import { createHarness, type Harness } from '../helpers/backfill-harness';
import { pypiViewJob, refusalOf, seedPypi, tablesOf, targetAndSource, whileIngesting } from '../helpers/view-jobs';
import { freshDatabase } from '../helpers/chdb-env';
import type { TableRef } from '../../src/shared/table-ref';
import { statementOf } from '../helpers/statement-of';

describe('kind: view — a materialized view added to a table with data, while ingestion goes on', () => {
  let h: Harness;
  let db: string;
  let pypi: TableRef;

  beforeAll(async () => {
    h = await createHarness();
    db = await freshDatabase(h.ch, 'view');
    pypi = await seedPypi(h.ch, db, 300_000, '2024-01-01 00:00:00', '2024-03-01 00:00:00');
  });

  afterAll(async () => {
    await h?.close();
  });

  const execute = (input: ViewBackfillInputRaw) =>
    h.env.client.workflow.execute('viewBackfillWorkflow', {
      taskQueue: h.taskQueue,
      workflowId: `view-${randomUUID()}`,
      args: [input],
    }) as Promise<ViewBackfillSummary>;
  const run = async (input: ViewBackfillInputRaw) => {
    const { result: summary, ingested } = await h.withWorker(() => whileIngesting(h.ch, pypi, () => execute(input)));
    return { summary, ingested };
  };

  it('pypi_downloads (SummingMergeTree, unpartitioned, ranged fill): every row counted once', async () => {
    const { summary, ingested } = await run({ job: pypiViewJob('pypi-downloads.yaml', db) });

    expect(ingested).toBeGreaterThan(0);
    expect(summary.partitions.map((p) => p.partition)).toEqual(['all']);
    expect(Object.values(summary.totals.checksPassed)).not.toHaveLength(0);
    // The fill read the history and the rows ingested before the cutoff; the view got the rest.
    expect(summary.rowsRead).toBeGreaterThan(300_000);
    const { target, source } = await targetAndSource(h.ch, db, 'pypi_downloads', 'project', 'sum(count)', 'project');
    expect(target).toEqual(source);
    expect(Number(source.total)).toBe(300_000 + ingested);
    expect((await tablesOf(h.ch, db)).filter((t) => t.includes('_v2_'))).toEqual([]);
  });

  it('per hour (AggregatingMergeTree, by month, Null-engine fill): every row counted once', async () => {
    const job = pypiViewJob('pypi-downloads-per-day.yaml', db, {
      target: { table: `${db}.pypi_hourly_states`, engine: 'AggregatingMergeTree', partitionBy: 'month' },
      view: { name: 'pypi_hourly_states_mv' },
      aggregates: { count: 'count()', projects_seen: 'uniq(installer)' },
    });
    const { summary } = await run({ job });

    const months = summary.partitions.map((p) => p.partition);
    expect(months.slice(0, 2)).toEqual(['202401', '202402']);
    expect(Object.values(summary.totals.checksPassed).every((passed) => passed === months.length)).toBe(true);
    // Validated through the SQL path: the keys, and the count() states merged whole equal to the source rows; the
    // uniq() states, whose merge is approximate, are not compared.
    expect(Object.keys(summary.totals.checksPassed).sort()).toEqual([
      'count = source rows',
      'keys = distinct keys of the view query',
    ]);
    const { target, source } = await targetAndSource(
      h.ch,
      db,
      'pypi_hourly_states',
      'hour, project',
      'countMerge(count)',
      'toStartOfHour(timestamp) AS hour, project',
    );
    expect(target).toEqual(source);
    const [types] = await h.ch.rows(
      statementOf<{ t: string }>({
        query: `SELECT type AS t FROM system.columns WHERE database = {db:String} AND table = 'pypi_hourly_states' AND name = 'projects_seen'`,
        params: { db },
      }),
    );
    expect(types.t).toBe('AggregateFunction(uniq, String)');
    expect((await tablesOf(h.ch, db)).filter((t) => t.includes('_v2_'))).toEqual([]);
  });

  it('an aggregate named after the column it sums (bytes: sum(bytes)), read elsewhere too: every row once', async () => {
    await h.ch.exec({
      query: `CREATE TABLE ${db}.downloads (timestamp DateTime, project String, bytes UInt64) ENGINE = MergeTree ORDER BY timestamp`,
      params: {},
    });
    await h.ch.exec({
      query: `INSERT INTO ${db}.downloads SELECT toDateTime('2024-01-01 00:00:00') + number * 3600, ['a', 'b', 'c'][number % 3 + 1], number % 250 FROM numbers(2000)`,
      params: {},
    });
    const job: ViewJobInput = {
      kind: 'view',
      source: { table: `${db}.downloads`, timeColumn: 'timestamp' },
      target: { table: `${db}.bytes_per_day`, engine: 'SummingMergeTree', partitionBy: 'month' },
      view: { name: 'bytes_per_day_mv' },
      groupBy: { day: 'toDate(timestamp)', project: 'project' },
      // `bytes` is an output and a source column: the filter and the other sum read the column, not the sum.
      aggregates: { bytes: 'sum(bytes)', double: 'sum(bytes * 2)', downloads: 'count()' },
      where: 'bytes > 0',
      // Fast: the count() output stands in for the keys, and the totals are read without the GROUP BY.
      validation: { mode: 'fast' },
      cutoffMarginSeconds: 4,
      latenessSeconds: 1,
    };
    const summary = await h.withWorker(() => execute({ job }));
    expect(summary.partitions.map((p) => p.partition)).toEqual(['202401', '202402', '202403']);
    expect(Object.keys(summary.totals.checksPassed).sort()).toEqual([
      'downloads = source rows',
      'total bytes',
      'total double',
    ]);
    // The rows read are the source rows before the cutoff that pass the filter, as the count() output says.
    const [read] = await h.ch.rows(
      statementOf<{ n: string }>({
        query: `SELECT toString(count()) AS n FROM ${db}.downloads WHERE bytes > 0`,
        params: {},
      }),
    );
    expect(summary.rowsRead).toBe(Number(read.n));
    // A row after the cutoff reaches the target through the live view, whose SELECT has the same aliases.
    await h.ch.exec({ query: `INSERT INTO ${db}.downloads VALUES (now(), 'a', 300), (now(), 'b', 0)`, params: {} });
    const contents = (q: string) =>
      h.ch.rows(
        statementOf<{ day: string; project: string; total: string; big: string; n: string }>({ query: q, params: {} }),
      );
    const target = await contents(
      `SELECT toString(day) AS day, project, toString(sum(bytes)) AS total, toString(sum(double)) AS big, toString(sum(downloads)) AS n
       FROM ${db}.bytes_per_day GROUP BY day, project ORDER BY day, project`,
    );
    const expected = await contents(
      `SELECT toString(toDate(timestamp)) AS day, project, toString(sum(bytes)) AS total,
         toString(sum(bytes * 2)) AS big, toString(count()) AS n
       FROM ${db}.downloads WHERE bytes > 0 GROUP BY day, project ORDER BY day, project`,
    );
    expect(target).toEqual(expected);
    expect(target.length).toBeGreaterThan(80);
    expect(target.find((r) => r.project === 'a' && r.day === expected.at(-1)!.day)?.total).toBe('300');
  });

  describe('bad input is refused before any DDL, naming the field', () => {
    const refusal = (job: ViewJobInput): Promise<string> =>
      refusalOf(h.ch, db, () => h.withWorker(() => execute({ job })));
    const base = () =>
      pypiViewJob('pypi-downloads.yaml', db, { target: { table: `${db}.fresh_target` }, view: { name: 'fresh_mv' } });

    it('a view of that name with another definition', async () => {
      // pypi_downloads_mv exists from the first test, with another cutoff.
      const job = pypiViewJob('pypi-downloads.yaml', db);
      expect(await refusal(job)).toMatch(/^view\.name: .*pypi_downloads_mv already exists with another definition/);
    });

    it('a target whose columns do not fit the SELECT', async () => {
      await h.ch.exec({
        query: `CREATE TABLE ${db}.wrong_target (project String, count Float64) ENGINE = SummingMergeTree ORDER BY project`,
        params: {},
      });
      const job = { ...base(), target: { table: `${db}.wrong_target` } };
      expect(await refusal(job)).toMatch(/^target\.table: .*has columns "project String, count Float64"/);
    });

    it('a missing time column', async () => {
      const job = { ...base(), source: { table: `${db}.pypi`, timeColumn: 'ts' } };
      expect(await refusal(job)).toMatch(/^source\.timeColumn: column "ts" does not exist/);
    });

    it('a cutoff already past', async () => {
      const job = { ...base(), cutoff: '2024-01-15T00:00:00Z' };
      expect(await refusal(job)).toMatch(/^cutoff: 2024-01-15T00:00:00Z is already past/);
    });

    it('a non-additive aggregate into a SummingMergeTree', async () => {
      const job = { ...base(), aggregates: { count: 'count()', users: 'uniq(country_code)' } };
      expect(await refusal(job)).toMatch(/^aggregates\.users: a SummingMergeTree target can only add up/);
    });
  });
});
