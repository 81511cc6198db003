import { randomUUID } from 'node:crypto';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { ClickHouse } from '../../src/clickhouse/clickhouse';
import { createDemoEventsTable, insertDemoEvents } from '../../examples/demo/sql/demo-events';
import { createHarness, exampleJob, type Harness } from '../helpers/backfill-harness';
import { freshDatabase } from '../helpers/chdb-env';
import { statementOf } from '../helpers/statement-of';

/**
 * Every kind of bad input is refused with a message naming the field or object, before any DDL runs: the
 * database holds exactly the same tables, definitions, parts and rows afterwards.
 */

/** Everything about the database a refused backfill must leave as it was. */
async function snapshot(ch: ClickHouse, db: string) {
  const tables = await ch.rows(
    statementOf<{ name: string }>({
      query:
        'SELECT name, engine, create_table_query, metadata_modification_time FROM system.tables ' +
        'WHERE database = {db:String} ORDER BY name',
      params: { db },
    }),
  );
  const parts = await ch.rows({
    query:
      'SELECT table, name, rows, modification_time, hash_of_all_files FROM system.parts ' +
      'WHERE database = {db:String} AND active ORDER BY table, name',
    params: { db },
  });
  const contents = await Promise.all(
    tables.map(async ({ name }) => ({
      name,
      digest: await ch.rows({
        query: 'SELECT count() AS n, sum(cityHash64(*)) AS h FROM {db:Identifier}.{name:Identifier}',
        params: { db, name },
      }),
    })),
  );
  return { tables, parts, contents };
}

/** The single-level aggregation of the example job, as `SELECT` text for fixtures (ours, not user input). */
const exampleAggregation = (db: string, dailyEvents = 'count()') =>
  `SELECT user_id, host, device_ip, toDate(ts) AS date, ${dailyEvents} AS daily_events, sum(ctr) AS daily_sum_ctr,
     sum(ctr * ctr) AS daily_sum_sq_ctr, groupUniqArray(toHour(ts)) AS hours
   FROM ${db}.events GROUP BY user_id, host, device_ip, date`;

/** The example job, loosely typed so that a case can break it any way it likes. */
type LooseJob = Record<string, unknown> & {
  keys?: string[];
  source: { table: string; timeColumn: string };
  target: { table: string };
  date: { column?: string; expression: string };
  metrics: Record<string, string>;
};
type Edit = (job: LooseJob, db: string) => unknown;

describe('bad input is refused, naming the field, and changes nothing', () => {
  let h: Harness;
  let db: string;

  beforeAll(async () => {
    h = await createHarness();
    db = await freshDatabase(h.ch, 'bad_input');
    const events = { database: db, name: 'events' };
    await h.ch.exec(createDemoEventsTable(events));
    await h.ch.exec(insertDemoEvents(events, '2024-01-01', 1, 3_000));
    const fixture = (name: string, engine: string, dailyEvents?: string) =>
      h.ch.exec({
        query: `CREATE TABLE ${db}.${name} ${engine} AS ${exampleAggregation(db, dailyEvents)}`,
        params: {},
      });
    const orderBy = 'ORDER BY (user_id, host, device_ip, date)';
    await fixture('other_types', `ENGINE = MergeTree PARTITION BY toYYYYMM(date) ${orderBy}`, 'toUInt32(count())');
    await fixture('other_partitioning', `ENGINE = MergeTree PARTITION BY toYYYYMMDD(date) ${orderBy}`);
    await fixture('other_engine', 'ENGINE = Memory');
    await h.ch.exec({
      query: `CREATE TABLE ${db}.fewer_columns ENGINE = MergeTree PARTITION BY toYYYYMM(date) ${orderBy} AS
              SELECT user_id, host, device_ip, toDate(ts) AS date, count() AS daily_events
              FROM ${db}.events GROUP BY user_id, host, device_ip, date`,
      params: {},
    });
    // One worker for the whole file, until close().
    h.serve();
  });

  afterAll(async () => {
    await h?.close();
  });

  /** Runs the backfill on `input` and returns the ApplicationFailure that failed it. */
  async function refusal(input: unknown): Promise<ApplicationFailure> {
    const outcome = await h.env.client.workflow
      .execute('backfillWorkflow', {
        taskQueue: h.taskQueue,
        workflowId: `bad-input-${randomUUID()}`,
        args: [input],
        workflowExecutionTimeout: '90s',
      })
      .then(
        (result: unknown) => ({ result }),
        (error: unknown) => ({ error }),
      );
    if (!('error' in outcome)) throw new Error(`the backfill succeeded: ${JSON.stringify(outcome.result)}`);
    expect(outcome.error).toBeInstanceOf(WorkflowFailedError);
    let e = (outcome.error as Error).cause;
    while (e !== undefined && !(e instanceof ApplicationFailure)) e = (e as Error).cause;
    if (!(e instanceof ApplicationFailure)) throw new Error(`no ApplicationFailure in ${String(outcome.error)}`);
    return e;
  }

  /** Asserts the input is refused with `type`, a message containing `message`, and no change to the database. */
  async function expectRefused(input: unknown, type: string, message: string, target = 'events_daily') {
    const before = await snapshot(h.ch, db);
    const failure = await refusal(input);
    expect({ type: failure.type, nonRetryable: failure.nonRetryable }).toEqual({ type, nonRetryable: true });
    expect(failure.message).toContain(message);
    const after = await snapshot(h.ch, db);
    expect(after).toEqual(before);
    expect(after.tables.map((t) => t.name).filter((n) => n === target || n.includes('_v2_'))).toEqual(
      target === 'events_daily' ? [] : [target],
    );
  }

  const run = (edit: Edit, from = '2024-01-01', to = '2024-01-31') => {
    const job = exampleJob(db) as LooseJob;
    return { job: edit(job, db) ?? job, from, to };
  };

  describe('a malformed job fails the workflow at its input, naming the field', () => {
    it.each<[string, Edit, string]>([
      ['a job without keys', (j) => void delete j.keys, 'job.keys: '],
      ['a job of an unknown kind', (j) => void (j.kind = 'copy'), 'job.kind: '],
      ['a job that is not an object', () => 'kind: aggregate', 'job: '],
      ['a job with an unknown field', (j) => void (j.where = 'ctr > 0'), 'job: Unrecognized key: "where"'],
      ['a metric outside the grammar', (j) => void (j.metrics.bad = 'sum(`x`)'), 'job.metrics.bad: cannot parse'],
      ['a metric that is not one call', (j) => void (j.metrics.bad = 'ctr + 1'), 'job.metrics.bad: '],
      [
        'a function outside the allowed families',
        (j) => void (j.metrics.daily_sum_ctr = 'sum(dictGet(d, a, ctr))'),
        'job.metrics.daily_sum_ctr: function dictGet is not in the allowed families',
      ],
      [
        'a function never allowed, even when the job names it',
        (j) => void ((j.date.expression = 'toDate(sleepEachRow(1))'), (j.allowFunctions = ['sleepEachRow'])),
        'job.date.expression: function sleepEachRow is never allowed in a job',
      ],
    ])('%s', async (_, edit, message) => {
      await expectRefused(run(edit), 'InvalidInput', message);
    });

    it('`to` before `from`', async () => {
      await expectRefused(
        run(() => undefined, '2024-01-31', '2024-01-01'),
        'InvalidInput',
        'to: 2024-01-01 is before from (2024-01-31)',
      );
    });

    it('a day that does not exist', async () => {
      await expectRefused(
        run(() => undefined, '2024-02-30', '2024-03-31'),
        'InvalidInput',
        'from: 2024-02-30 is not a calendar date',
      );
    });
  });

  describe('an identifier that is not a plain name fails the workflow at its input, naming the field', () => {
    it.each<[string, Edit, string]>([
      ['a key with a quote', (j) => void (j.keys = ['user_id', "host'"]), `job.keys.1: "host'" is not a plain name`],
      ['a key with a space', (j) => void (j.keys = ['user id']), 'job.keys.0: "user id" is not a plain name'],
      [
        'a key with a semicolon',
        (j) => void (j.keys = ['host; DROP TABLE events']),
        'job.keys.0: "host; DROP TABLE events" is not a plain',
      ],
      ['a key with a backtick', (j) => void (j.keys = ['host`']), 'job.keys.0: "host`" is not a plain name'],
      ['a source table with a quote', (j, db) => void (j.source.table = `${db}.events'`), 'job.source.table: '],
      ['a source table with a backtick', (j, db) => void (j.source.table = `${db}.\`events\``), 'job.source.table: '],
      ['a target table with a space', (j, db) => void (j.target.table = `${db}.events daily`), 'job.target.table: '],
      [
        'a target table with a semicolon',
        (j, db) => void (j.target.table = `${db}.events_daily; DROP TABLE ${db}.events`),
        'is not a plain table name',
      ],
      ['a metric name with a quote', (j) => void (j.metrics = { "n'": 'count()' }), `job.metrics.n': `],
      ['a metric name with a backtick', (j) => void (j.metrics = { 'n`': 'count()' }), 'job.metrics.n`: '],
      [
        'a metric name with a space',
        (j) => void (j.metrics = { 'daily events': 'count()' }),
        'job.metrics.daily events',
      ],
      ['a metric name with a semicolon', (j) => void (j.metrics = { 'n;': 'count()' }), 'job.metrics.n;: '],
      [
        'a time column with a semicolon',
        (j) => void (j.source.timeColumn = 'ts;'),
        'job.source.timeColumn: "ts;" is not a plain name',
      ],
      [
        'a date column with a quote',
        (j) => void (j.date = { column: 'da"te', expression: 'toDate(ts)' }),
        'job.date.column: "da\\"te" is not a plain name',
      ],
    ])('%s', async (_, edit, message) => {
      await expectRefused(run(edit), 'InvalidInput', message);
    });
  });

  describe('a job that does not fit its source fails the plan, naming the field', () => {
    it.each<[string, Edit, string]>([
      [
        'an unknown source table',
        (j, db) => void (j.source.table = `${db}.no_such_events`),
        'source.table: table %DB%.no_such_events does not exist',
      ],
      [
        'a source table in an unknown database',
        (j) => void (j.source.table = 'no_such_database.events'),
        'source.table: table no_such_database.events does not exist',
      ],
      [
        'an unknown key column',
        (j) => void (j.keys = ['user_id', 'hostname']),
        'keys.1: column "hostname" does not exist in %DB%.events',
      ],
      [
        'an unknown column in a metric',
        (j) => void (j.metrics.daily_sum_ctr = 'sum(clicks)'),
        'metrics.daily_sum_ctr: column "clicks" does not exist',
      ],
      [
        'an unknown time column',
        (j) => void (j.source.timeColumn = 'event_time'),
        'source.timeColumn: column "event_time" does not exist',
      ],
      [
        'an unknown column in the date expression',
        (j) => void (j.date.expression = 'toDate(event_time)'),
        'date.expression: column "event_time" does not exist',
      ],
      [
        'a metric that is a call but not an aggregate',
        (j) => void (j.metrics.hours = 'toHour(ts)'),
        'metrics.hours: "toHour" is not an aggregate function',
      ],
      [
        'a metric of a function the job names but the server lacks',
        (j) => void ((j.metrics.hours = 'frobnicate(ts)'), (j.allowFunctions = ['frobnicate'])),
        'metrics.hours: "frobnicate" is not a known aggregate function',
      ],
      [
        'a nested aggregate',
        (j) => void (j.metrics.daily_events = 'sum(count())'),
        'metrics.daily_events: aggregate "count" cannot be nested',
      ],
      [
        'an unknown function inside an aggregate',
        (j) => void ((j.metrics.daily_sum_ctr = 'sum(frobnicate(ctr))'), (j.allowFunctions = ['frobnicate'])),
        'metrics.daily_sum_ctr: unknown function "frobnicate"',
      ],
      [
        'an aggregate as the date expression',
        (j) => void (j.date.expression = 'max(ts)'),
        'date.expression: "max" is an aggregate',
      ],
      [
        'a date expression that yields a time, not a date',
        (j) => void (j.date.expression = 'toStartOfHour(ts)'),
        'date.expression: "toStartOfHour(ts)" yields DateTime, not a Date',
      ],
      [
        'a date expression that yields a number, not a date',
        (j) => void (j.date.expression = 'toHour(ts)'),
        'date.expression: "toHour(ts)" yields UInt8, not a Date',
      ],
      [
        'an aggregate ClickHouse refuses for the column type',
        (j) => void (j.metrics.daily_sum_ctr = 'sum(host)'),
        'metrics.daily_sum_ctr: ClickHouse refused it',
      ],
    ])('%s', async (_, edit, message) => {
      await expectRefused(run(edit), 'JobSpecError', message.replace('%DB%', db));
    });
  });

  describe('an existing target that does not match the job is refused and left byte for byte as it was', () => {
    it.each<[string, string, string]>([
      ['with a column of another type', 'other_types', 'does not match the job: it has ('],
      ['with fewer columns', 'fewer_columns', 'does not match the job: it has ('],
      ['with another partition key', 'other_partitioning', 'is partitioned by "toYYYYMMDD(date)"'],
      ['of an engine without partitions', 'other_engine', 'uses engine Memory'],
    ])('a target %s', async (_, target, message) => {
      const input = run((j, db) => void (j.target.table = `${db}.${target}`));
      await expectRefused(input, 'JobSpecError', `target.table: ${db}.${target} ${message}`, target);
    });
  });

  describe('the check above is sensitive', () => {
    it('a valid job run the same way succeeds and the snapshot sees the tables it created', async () => {
      const before = await snapshot(h.ch, db);
      const input = run((j, db) => void (j.target.table = `${db}.control_daily`));
      await h.env.client.workflow.execute('backfillWorkflow', {
        taskQueue: h.taskQueue,
        workflowId: `bad-input-control-${randomUUID()}`,
        args: [input],
        workflowExecutionTimeout: '90s',
      });
      const after = await snapshot(h.ch, db);
      // The target, and the ledger its swap recorded in (src/activities/engine/ledger.ts).
      expect(after.tables.map((t) => t.name)).toEqual(
        [...before.tables.map((t) => t.name), '_backfill_ledger', 'control_daily'].sort(),
      );
      expect(after).not.toEqual(before);
    });
  });
});
