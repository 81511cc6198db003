import { mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import type { ViewJobInput } from '../../src/shared/job-spec';
import { createHarness, type Harness } from '../helpers/backfill-harness';
import { freshDatabase } from '../helpers/chdb-env';
import { runCliOn } from '../helpers/run-cli-captured';
import { statementOf } from '../helpers/statement-of';
import { seedPypi, tablesOf, viewJobFile, whileIngesting } from '../helpers/view-jobs';
import type { TableRef } from '../../src/shared/table-ref';

/*
 * View jobs whose view is the user's own SQL (`select:` or a `.sql` file): created as written (plus the cutoff),
 * backfilled while ingestion runs, and every check reads the target's contents against the SQL over the source.
 */

describe('a view job given as SQL', () => {
  let h: Harness;
  let db: string;
  let pypi: TableRef;
  const cli = (...args: string[]) => runCliOn(h, ...args);

  /** `<digest, rows>` of a query's rows, for comparing a target with the view's query over the whole source. */
  const digest = async (inner: string, keys: string) => {
    const [row] = await h.ch.rows(
      statementOf<{ rows: string; digest: string }>({
        query: `SELECT toString(count()) AS rows, toString(groupBitXor(cityHash64(${keys}))) AS digest FROM (${inner})`,
        params: {},
      }),
    );
    return row;
  };

  /** Per hour, project, tag and region: the downloads by pip among the wheels (a string-literal filter). */
  const hourlySelect = (database: string) =>
    [
      'SELECT toStartOfHour(timestamp) AS hour, project, arrayJoin([installer, system]) AS tag,',
      "  dictGetOrDefault('" + database + ".regions', 'region', tuple(toString(country_code)), 'other') AS region,",
      "  countIf(installer = 'pip') AS pip_downloads, count() AS downloads",
      `FROM ${database}.pypi`,
      "WHERE type = 'bdist_wheel' -- wheels only",
      'GROUP BY hour, project, tag, region -- per hour',
    ].join('\n');

  const hourlyJob = (name: string, overrides: Partial<ViewJobInput> = {}): ViewJobInput => ({
    kind: 'view',
    source: { table: `${db}.pypi`, timeColumn: 'timestamp' },
    target: { table: `${db}.${name}`, engine: 'MergeTree', partitionBy: 'month', orderBy: ['hour', 'project', 'tag'] },
    view: { name: `${name}_mv` },
    select: hourlySelect(db),
    dimensions: [`${db}.regions`],
    allowFunctions: ['dictGetOrDefault'],
    cutoffMarginSeconds: 4,
    latenessSeconds: 1,
    ...overrides,
  });

  beforeAll(async () => {
    h = await createHarness();
    db = await freshDatabase(h.ch, 'viewsql');
    pypi = await seedPypi(h.ch, db, 60_000, '2024-01-01 00:00:00', '2024-03-01 00:00:00');
    await h.ch.exec(
      statementOf({
        query: `CREATE TABLE ${db}.countries (code String, region String) ENGINE = MergeTree ORDER BY code`,
        params: {},
      }),
    );
    await h.ch.exec(
      statementOf({
        query: `INSERT INTO ${db}.countries VALUES ('US', 'am'), ('BR', 'am'), ('DE', 'eu'), ('FR', 'eu')`,
        params: {},
      }),
    );
    await h.ch.exec(
      statementOf({
        query: `CREATE DICTIONARY ${db}.regions (code String, region String) PRIMARY KEY code SOURCE(CLICKHOUSE(DB '${db}' TABLE 'countries')) LAYOUT(COMPLEX_KEY_HASHED()) LIFETIME(0)`,
        params: {},
      }),
    );
    h.serve();
  });

  afterAll(async () => {
    await h?.close();
  });

  it('fills a MergeTree target from SQL with a string filter, countIf, arrayJoin and a dictionary: target = SQL over the source', async () => {
    const job = hourlyJob('hourly_sql');
    const file = viewJobFile(job);
    const dry = await cli('plan', '--job', file);
    expect(dry.err).toBe('');
    if (process.env.PLAN_OUT) writeFileSync(process.env.PLAN_OUT, dry.out);
    expect(dry.out).toContain("WHERE (type = 'bdist_wheel') AND `timestamp` >= toDateTime(");
    expect(dry.out).toContain('validation compares, per partition: rows, and the total of each numeric column');

    const { result: run } = await whileIngesting(h.ch, pypi, () => cli('start', '--job', file));
    expect(run.err).toBe('');
    expect(run.code).toBe(0);

    const [view] = await h.ch.rows(
      statementOf<{ as_select: string }>({
        query: `SELECT as_select FROM system.tables WHERE database = {db:String} AND name = 'hourly_sql_mv'`,
        params: { db },
      }),
    );
    expect(view.as_select).toContain("dictGetOrDefault('");
    const keys = 'hour, project, tag, region, n, pip';
    const target = await digest(
      `SELECT hour, project, tag, region, sum(downloads) AS n, sum(pip_downloads) AS pip FROM ${db}.hourly_sql GROUP BY hour, project, tag, region`,
      keys,
    );
    const source = await digest(
      `SELECT hour, project, tag, region, sum(downloads) AS n, sum(pip_downloads) AS pip FROM (${hourlySelect(db)}\n) GROUP BY hour, project, tag, region`,
      keys,
    );
    expect(Number(source.rows)).toBeGreaterThan(1000);
    expect(target).toEqual(source);
  });

  it('fills an AggregatingMergeTree target from SQL, its exact states merged in validation: target = SQL over the source', async () => {
    const select = [
      'SELECT toDate(timestamp) AS day, project, countState() AS n, sumState(length(url)) AS bytes,',
      "  sumIfState(length(url), installer = 'pip') AS pip_bytes, uniqState(installer) AS installers",
      `FROM ${db}.pypi`,
      'GROUP BY day, project',
    ].join('\n');
    const job = hourlyJob('states_sql', {
      target: {
        table: `${db}.states_sql`,
        engine: 'AggregatingMergeTree',
        partitionBy: 'month',
        orderBy: ['day', 'project'],
      },
      select,
      dimensions: [],
      allowFunctions: [],
    });
    const file = viewJobFile(job);
    const dry = await cli('plan', '--job', file);
    expect(dry.err).toBe('');
    expect(dry.out).toContain(
      'validation compares, per partition: distinct ORDER BY keys, and the total of each sum/count/min/max/uniqExact ' +
        'state column (its -Merge) and SimpleAggregateFunction(sum) column, against the view query (other states are ' +
        'not compared)',
    );
    const { result: run } = await whileIngesting(h.ch, pypi, () => cli('start', '--job', file));
    expect(run.err).toBe('');
    expect(run.code).toBe(0);
    const keys = 'day, project, n, bytes, pip';
    const target = await digest(
      `SELECT day, project, countMerge(n) AS n, sumMerge(bytes) AS bytes, sumIfMerge(pip_bytes) AS pip FROM ${db}.states_sql GROUP BY day, project`,
      keys,
    );
    const source = await digest(
      `SELECT toDate(timestamp) AS day, project, count() AS n, sum(length(url)) AS bytes, sumIf(length(url), installer = 'pip') AS pip FROM ${db}.pypi GROUP BY day, project`,
      keys,
    );
    expect(Number(source.rows)).toBeGreaterThan(100);
    expect(target).toEqual(source);
  });

  it('fills a ReplacingMergeTree target: its final rows are the distinct keys of the SQL over the source', async () => {
    const select = [
      'SELECT toStartOfMonth(timestamp) AS month, project, installer, timestamp AS seen',
      `FROM ${db}.pypi`,
      "WHERE type = 'sdist' AND installer != 'requests'",
    ].join('\n');
    const job = hourlyJob('latest_sql', {
      target: {
        table: `${db}.latest_sql`,
        engine: 'ReplacingMergeTree',
        partitionBy: 'month',
        orderBy: ['month', 'project', 'installer'],
      },
      select,
      dimensions: [],
      allowFunctions: [],
    });
    const { result: run } = await whileIngesting(h.ch, pypi, () => cli('start', '--job', viewJobFile(job)));
    expect(run.err).toBe('');
    expect(run.code).toBe(0);
    const target = await digest(
      `SELECT month, project, installer FROM ${db}.latest_sql FINAL`,
      'month, project, installer',
    );
    const source = await digest(
      `SELECT DISTINCT month, project, installer FROM (${select})`,
      'month, project, installer',
    );
    expect(target).toEqual(source);
  });

  it('fills a CollapsingMergeTree(sign) target: its final rows are the SQL over the source, collapsed', async () => {
    await h.ch.exec({
      query: `CREATE TABLE ${db}.orders (ts DateTime, id UInt64, amount Int64, sign Int8) ENGINE = MergeTree ORDER BY ts`,
      params: {},
    });
    // Each order's first state; every fifth one cancelled a second later and replaced by a new amount.
    await h.ch.exec({
      query: `INSERT INTO ${db}.orders
        SELECT toDateTime('2024-01-01 00:00:00') + number * 1800, number, number % 97, 1 FROM numbers(3000)
        UNION ALL SELECT toDateTime('2024-01-01 00:00:01') + number * 1800, number, number % 97, -1 FROM numbers(3000) WHERE number % 5 = 0
        UNION ALL SELECT toDateTime('2024-01-01 00:00:02') + number * 1800, number, number % 89 + 100, 1 FROM numbers(3000) WHERE number % 5 = 0`,
      params: {},
    });
    const select = `SELECT toStartOfMonth(ts) AS month, id, amount, sign FROM ${db}.orders`;
    const job: ViewJobInput = {
      kind: 'view',
      source: { table: `${db}.orders`, timeColumn: 'ts' },
      target: {
        table: `${db}.order_states`,
        engine: 'CollapsingMergeTree(sign)',
        partitionBy: 'month',
        orderBy: ['month', 'id'],
      },
      view: { name: 'order_states_mv' },
      select,
      cutoffMarginSeconds: 4,
      latenessSeconds: 1,
    };
    const plan = await cli('plan', '--job', viewJobFile(job));
    expect(plan.out).toContain('validation compares, per partition: the sum of the sign column');
    const run = await cli('start', '--job', viewJobFile(job));
    expect(run.err).toBe('');
    expect(run.code).toBe(0);
    // After the cutoff, through the live view: a new order, then its cancel and new state.
    await h.ch.exec({ query: `INSERT INTO ${db}.orders VALUES (now(), 99999, 5, 1)`, params: {} });
    await h.ch.exec({
      query: `INSERT INTO ${db}.orders VALUES (now(), 99999, 5, -1), (now(), 99999, 6, 1)`,
      params: {},
    });

    type Row = { month: string; id: string; amount: string };
    const rows = (query: string) => h.ch.rows(statementOf<Row>({ query, params: {} }));
    const target = await rows(
      `SELECT toString(month) AS month, toString(id) AS id, toString(amount) AS amount
       FROM ${db}.order_states FINAL ORDER BY month, id`,
    );
    const expected = await rows(
      `SELECT toString(month) AS month, toString(id) AS id, toString(sum(amount * sign)) AS amount FROM (${select})
       GROUP BY month, id HAVING sum(sign) > 0 ORDER BY month, id`,
    );
    expect(target).toEqual(expected);
    expect(target).toHaveLength(3001);
    expect(target.find((r) => r.id === '5')?.amount).toBe(String((5 % 89) + 100));
    expect(target.find((r) => r.id === '99999')?.amount).toBe('6');
  });

  it('takes the view from a .sql file with the whole CREATE MATERIALIZED VIEW', async () => {
    const dir = path.join(tmpdir(), `view-sql-${randomUUID()}`);
    mkdirSync(dir);
    writeFileSync(
      path.join(dir, 'per-country.sql'),
      [
        `CREATE MATERIALIZED VIEW ${db}.per_country_mv TO ${db}.per_country AS`,
        'SELECT toDate(timestamp) AS day, country_code, count() AS downloads',
        `FROM ${db}.pypi`,
        'GROUP BY day, country_code;',
        '',
      ].join('\n'),
    );
    const job = {
      kind: 'view',
      source: { table: `${db}.pypi`, timeColumn: 'timestamp' },
      target: {
        table: `${db}.per_country`,
        engine: 'SummingMergeTree',
        partitionBy: 'month',
        orderBy: ['day', 'country_code'],
      },
      view: { name: `${db}.per_country_mv` },
      sqlFile: 'per-country.sql',
      cutoffMarginSeconds: 4,
      latenessSeconds: 1,
    };
    const file = path.join(dir, 'job.json');
    writeFileSync(file, JSON.stringify(job));
    const { result: run, ingested } = await whileIngesting(h.ch, pypi, () => cli('start', '--job', file));
    expect(run.err).toBe('');
    expect(run.code).toBe(0);
    expect(ingested).toBeGreaterThan(0);
    const keys = 'day, country_code, n';
    const target = await digest(
      `SELECT day, country_code, sum(downloads) AS n FROM ${db}.per_country GROUP BY day, country_code`,
      keys,
    );
    const source = await digest(
      `SELECT toDate(timestamp) AS day, country_code, count() AS n FROM ${db}.pypi GROUP BY day, country_code`,
      keys,
    );
    expect(target).toEqual(source);
  });

  it('refuses two SELECTs, a table function and a view reading another table, naming what it found and creating nothing', async () => {
    const before = await tablesOf(h.ch, db);
    const refused = async (select: string) => {
      const job = hourlyJob('refused', {
        select,
        target: { table: `${db}.refused`, engine: 'MergeTree', orderBy: ['n'] },
      });
      const run = await cli('start', '--job', viewJobFile(job));
      expect(run.code).toBe(1);
      return run.err;
    };
    expect(
      await refused(`SELECT count() AS n FROM ${db}.pypi UNION ALL SELECT count() AS n FROM ${db}.pypi`),
    ).toContain('found 2 SELECTs');
    expect(
      await refused(`SELECT count() AS n FROM ${db}.pypi WHERE timestamp IN (SELECT max(timestamp) FROM ${db}.pypi)`),
    ).toContain('found 2 SELECTs');
    expect(await refused('SELECT number AS n FROM numbers(10)')).toContain('reads the table function numbers()');
    expect(await refused(`SELECT count() AS n FROM ${db}.countries`)).toContain(
      `reads ${db}.countries, not the source ${db}.pypi`,
    );
    expect(
      await refused(`SELECT count() AS n FROM ${db}.pypi AS p JOIN ${db}.countries AS c ON p.country_code = c.code`),
    ).toContain(`reads ${db}.countries besides the source; list it in dimensions`);
    expect(await tablesOf(h.ch, db)).toEqual(before);
  });
  it('refuses an existing target that feeds a further view (a chain), naming that view and creating nothing', async () => {
    const exec = (query: string) => h.ch.exec(statementOf({ query, params: {} }));
    await exec(`CREATE TABLE ${db}.chained (day Date, n UInt64) ENGINE = MergeTree ORDER BY day`);
    await exec(`CREATE TABLE ${db}.chained_totals (n UInt64) ENGINE = SummingMergeTree ORDER BY tuple()`);
    await exec(`CREATE MATERIALIZED VIEW ${db}.chained_totals_mv TO ${db}.chained_totals
      AS SELECT sum(n) AS n FROM ${db}.chained`);
    const before = await tablesOf(h.ch, db);
    const job = hourlyJob('chained', {
      select: `SELECT toDate(timestamp) AS day, count() AS n FROM ${db}.pypi GROUP BY day`,
      target: { table: `${db}.chained`, engine: 'MergeTree', orderBy: ['day'] },
    });
    const run = await cli('start', '--job', viewJobFile(job));
    expect(run.code).toBe(1);
    expect(run.err).toContain(`${db}.chained feeds materialized view ${db}.chained_totals_mv (a chain)`);
    expect(await tablesOf(h.ch, db)).toEqual(before);
  });
});
