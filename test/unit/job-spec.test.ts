import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import type { z } from 'zod';
import { backfillInputSchema } from '../../src/shared/backfill-input';
import { describeIssues } from '../../src/shared/input-errors';
import { aggregateJobSpecSchema, jobSpecSchema } from '../../src/shared/job-spec';

/** The smallest valid job: every optional field left to its default. */
const minimalJob = () => ({
  kind: 'aggregate',
  source: { table: 'analytics.events', timeColumn: 'ts' },
  target: { table: 'analytics.events_daily' },
  keys: ['user_id', 'host'],
  date: { expression: 'toDate(ts)' },
  metrics: { daily_events: 'count()', daily_sum_ctr: 'sum(ctr)' },
});

const input = (job: unknown = minimalJob(), from = '2024-01-01', to = '2024-01-31') => ({ job, from, to });

/** The message the workflow and the CLI show for `raw`, or undefined when it is accepted. */
function messageFor(schema: z.ZodType, raw: unknown, root?: string): string | undefined {
  const parsed = schema.safeParse(raw);
  return parsed.success ? undefined : describeIssues(parsed.error, root);
}

/** Applies `edit` to a fresh minimal job and returns the input's message. */
function jobMessage(edit: (job: Record<string, unknown>) => void): string | undefined {
  const job: Record<string, unknown> = minimalJob();
  edit(job);
  return messageFor(backfillInputSchema, input(job));
}

describe('a valid job', () => {
  it('the example job file parses as it is', () => {
    const file = path.resolve(__dirname, '../../examples/events-daily.yaml');
    const parsed = aggregateJobSpecSchema.parse(parse(readFileSync(file, 'utf8')));
    expect(parsed).toMatchObject({ kind: 'aggregate', keys: ['user_id', 'host', 'device_ip'], chunkSize: 50_000 });
    expect(Object.keys(parsed.metrics)).toEqual(['daily_events', 'daily_sum_ctr', 'daily_sum_sq_ctr', 'hours']);
  });

  it('gets the documented defaults for every field left out', () => {
    const job = aggregateJobSpecSchema.parse(minimalJob());
    expect(job).toMatchObject({
      chunkSize: 1_000_000,
      parallelism: 1,
      partitionBy: 'month',
      date: { column: 'date', expression: 'toDate(ts)' },
      insertSettings: {},
      validation: { mode: 'full', relativeTolerance: 1e-9 },
    });
  });

  it('keeps a validation mode given without a tolerance, and defaults the tolerance', () => {
    const job = aggregateJobSpecSchema.parse({ ...minimalJob(), validation: { mode: 'fast' } });
    expect(job.validation).toEqual({ mode: 'fast', relativeTolerance: 1e-9 });
  });

  it('accepts a metric that is a call of a non-aggregate function: only the server can tell', () => {
    expect(jobMessage((j) => (j.metrics = { hour: 'toHour(ts)' }))).toBeUndefined();
  });

  it.each([
    ['a single day', '2024-02-29', '2024-02-29'],
    ['a range over a year boundary', '2023-12-31', '2024-01-01'],
  ])('accepts %s', (_, from, to) => {
    expect(messageFor(backfillInputSchema, input(minimalJob(), from, to))).toBeUndefined();
  });
});

describe('a malformed job is refused naming the field', () => {
  it.each<[string, (job: Record<string, unknown>) => void, string]>([
    ['missing keys', (j) => delete j.keys, 'job.keys: '],
    ['empty keys', (j) => (j.keys = []), 'job.keys: needs at least one key column'],
    ['keys not a list', (j) => (j.keys = 'user_id'), 'job.keys: '],
    ['missing kind', (j) => delete j.kind, 'job.kind: '],
    ['an unknown kind', (j) => (j.kind = 'copy'), 'job.kind: '],
    ['missing source', (j) => delete j.source, 'job.source: '],
    ['missing timeColumn', (j) => (j.source = { table: 'events' }), 'job.source.timeColumn: '],
    ['missing target table', (j) => (j.target = {}), 'job.target.table: '],
    ['missing date expression', (j) => (j.date = { column: 'day' }), 'job.date.expression: '],
    ['no metrics', (j) => (j.metrics = {}), 'job.metrics: needs at least one metric'],
    ['metrics as a list', (j) => (j.metrics = ['count()']), 'job.metrics: '],
    ['a metric that is not text', (j) => (j.metrics = { n: 1 }), 'job.metrics.n: '],
    ['an unknown partitioning', (j) => (j.partitionBy = 'year'), 'job.partitionBy: '],
    ['chunkSize zero', (j) => (j.chunkSize = 0), 'job.chunkSize: '],
    ['chunkSize a fraction', (j) => (j.chunkSize = 1.5), 'job.chunkSize: '],
    ['chunkSize as text', (j) => (j.chunkSize = '1000'), 'job.chunkSize: '],
    ['parallelism zero', (j) => (j.parallelism = 0), 'job.parallelism: '],
    ['parallelism above 64', (j) => (j.parallelism = 65), 'job.parallelism: '],
    ['an unknown validation mode', (j) => (j.validation = { mode: 'slow' }), 'job.validation.mode: '],
    ['a tolerance above 1', (j) => (j.validation = { relativeTolerance: 2 }), 'job.validation.relativeTolerance: '],
    ['a negative tolerance', (j) => (j.validation = { relativeTolerance: -1 }), 'job.validation.relativeTolerance: '],
    ['max_threads zero', (j) => (j.insertSettings = { max_threads: 0 }), 'job.insertSettings.max_threads: '],
  ])('%s', (_, edit, expected) => {
    expect(jobMessage(edit)).toContain(expected);
  });

  it.each([null, 'kind: aggregate', 42, []])('a job that is not an object (%j) names the job', (job) => {
    expect(messageFor(backfillInputSchema, input(job))).toMatch(/^job: /);
  });

  it('lists every problem, one line each', () => {
    const message = jobMessage((j) => {
      j.keys = [];
      j.chunkSize = 0;
      j.source = { table: 'events', timeColumn: 'a b' };
    });
    expect(message?.split('\n').sort()).toEqual([
      expect.stringMatching(/^job\.chunkSize: /),
      expect.stringMatching(/^job\.keys: /),
      expect.stringMatching(/^job\.source\.timeColumn: /),
    ]);
  });

  it('prefixes every path with the root it is given', () => {
    expect(messageFor(jobSpecSchema, { ...minimalJob(), keys: [] }, 'jobfile')).toBe(
      'jobfile.keys: needs at least one key column',
    );
  });
});

describe('unknown fields are refused, at every level', () => {
  it.each<[string, (job: Record<string, unknown>) => void, string]>([
    ['job', (j) => (j.salt = 4), 'job: Unrecognized key: "salt"'],
    [
      'source',
      (j) => (j.source = { table: 'e', timeColumn: 'ts', where: '1' }),
      'job.source: Unrecognized key: "where"',
    ],
    ['target', (j) => (j.target = { table: 't', engine: 'Log' }), 'job.target: Unrecognized key: "engine"'],
    ['date', (j) => (j.date = { expression: 'toDate(ts)', tz: 'UTC' }), 'job.date: Unrecognized key: "tz"'],
    ['validation', (j) => (j.validation = { mode: 'full', keys: 3 }), 'job.validation: Unrecognized key: "keys"'],
    ['insertSettings', (j) => (j.insertSettings = { readonly: 0 }), 'job.insertSettings: Unrecognized key: "readonly"'],
  ])('in %s', (_, edit, expected) => {
    expect(jobMessage(edit)).toContain(expected);
  });

  it('at the top of the workflow input', () => {
    expect(messageFor(backfillInputSchema, { ...input(), dryRun: true })).toContain('Unrecognized key: "dryRun"');
  });
});

describe('duplicate output column names are refused', () => {
  it.each<[string, (job: Record<string, unknown>) => void, string]>([
    ['a metric named like a key', (j) => (j.metrics = { host: 'count()' }), 'host'],
    ['a metric named like the date column', (j) => (j.metrics = { date: 'count()' }), 'date'],
    ['a key named like the date column', (j) => (j.date = { column: 'user_id', expression: 'toDate(ts)' }), 'user_id'],
    ['the same key twice', (j) => (j.keys = ['user_id', 'user_id']), 'user_id'],
  ])('%s', (_, edit, name) => {
    expect(jobMessage(edit)).toContain(`job.metrics: output column "${name}" is named twice`);
  });
});

describe('an identifier that is not a plain name is refused naming the field', () => {
  /** The name as a refusal echoes it (bare when a plain token, JSON-quoted otherwise), as a regex. */
  const escaped = (name: string) =>
    (/^[\w.]+$/.test(name) ? name : JSON.stringify(name)).replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const hostile = ["user'id", 'user"id', 'user id', 'user;id', 'user`id', 'user.id', '1user', '', 'user\nid', 'usér'];

  it.each(hostile)('as a key: %j', (name) => {
    expect(jobMessage((j) => (j.keys = ['host', name]))).toMatch(
      new RegExp(`^job\\.keys\\.1: ${escaped(name)} is not a plain name`),
    );
  });

  it.each(hostile)('as the time column: %j', (name) => {
    expect(jobMessage((j) => (j.source = { table: 'events', timeColumn: name }))).toMatch(
      new RegExp(`^job\\.source\\.timeColumn: ${escaped(name)} is not a plain name`),
    );
  });

  it.each(hostile)('as the date column: %j', (name) => {
    expect(jobMessage((j) => (j.date = { column: name, expression: 'toDate(ts)' }))).toMatch(
      new RegExp(`^job\\.date\\.column: ${escaped(name)} is not a plain name`),
    );
  });

  it.each(hostile)('as the job name: %j', (name) => {
    expect(jobMessage((j) => (j.name = name))).toMatch(new RegExp(`^job\\.name: ${escaped(name)} is not a plain name`));
  });

  it.each(hostile.filter((n) => n !== ''))('as a metric name: %j', (name) => {
    // The record key's own message is zod's generic one; the field path still names the metric.
    expect(jobMessage((j) => (j.metrics = { [name]: 'count()' }))).toContain(`job.metrics.${name}: `);
  });

  it.each([
    "events'",
    'events; DROP TABLE users',
    'events`',
    'my events',
    'db."events"',
    'a.b.c',
    'db.',
    '.events',
    '',
    'db.events -- x',
  ])('as a source or target table: %j', (table) => {
    const named = `${/^[\w.]+$/.test(table) ? table : JSON.stringify(table)} is not a plain table name`;
    expect(jobMessage((j) => (j.source = { table, timeColumn: 'ts' }))).toContain(`job.source.table: ${named}`);
    expect(jobMessage((j) => (j.target = { table }))).toContain(`job.target.table: ${named}`);
  });
});

describe('an expression outside the grammar is refused naming the metric or date', () => {
  it.each([
    'sum("x")',
    'sum(x); DROP TABLE events',
    'sum(`x`)',
    'sum("x")',
    'sum(x) -- comment',
    'sum(x) /* comment */',
    'sum(t.x)',
    'sum({p:String})',
    'sum((SELECT 1))',
    'sum(x',
    '',
  ])('metric %j', (text) => {
    expect(jobMessage((j) => (j.metrics = { bad: text }))).toMatch(/^job\.metrics\.bad: /);
  });

  it.each(['x + 1', 'ctr', '1'])('metric %j is not one call', (text) => {
    expect(jobMessage((j) => (j.metrics = { bad: text }))).toMatch(/^job\.metrics\.bad: .* is not an aggregate call/);
  });

  it.each(['toDate("2024-01-01")', 'toDate(ts);', 'toDate(`ts`)'])('date expression %j', (text) => {
    expect(jobMessage((j) => (j.date = { expression: text }))).toMatch(/^job\.date\.expression: cannot parse/);
  });
});

describe('the date range', () => {
  it('refuses `to` before `from`, naming `to`', () => {
    expect(messageFor(backfillInputSchema, input(minimalJob(), '2024-02-01', '2024-01-31'))).toBe(
      'to: 2024-01-31 is before from (2024-02-01)',
    );
  });

  it.each(['2024-02-30', '2023-02-29', '2024-13-01'])('refuses %j as `from`: not a calendar date', (from) => {
    expect(messageFor(backfillInputSchema, input(minimalJob(), from, '2024-12-31'))).toBe(
      `from: ${from} is not a calendar date`,
    );
  });

  it.each<[string, string]>([
    ['2024-1-01', '2024-1-01'],
    ['20240101', '20240101'],
    ['2024-01-01T00:00:00Z', '2024-01-01T00:00:00Z'],
    [' 2024-01-01', '" 2024-01-01"'],
    ['', '""'],
  ])('refuses %j as `from`, echoing it', (from, echoed) => {
    expect(messageFor(backfillInputSchema, input(minimalJob(), from, '2024-12-31'))).toBe(
      `from: ${echoed} is not a date written YYYY-MM-DD`,
    );
  });

  it.each<[string, string]>([
    ['2024-13-01', 'is not a calendar date'],
    ['2024-04-31', 'is not a calendar date'],
    ['yesterday', 'is not a date written YYYY-MM-DD'],
  ])('refuses %j as `to`, naming it', (to, why) => {
    expect(messageFor(backfillInputSchema, input(minimalJob(), '2024-01-01', to))).toContain(`to: ${to} ${why}`);
  });

  it('refuses a missing range naming both ends', () => {
    const message = messageFor(backfillInputSchema, { job: minimalJob() });
    expect(message).toMatch(/^from: /m);
    expect(message).toMatch(/^to: /m);
  });
});
