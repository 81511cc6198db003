import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { randomUUID } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runCli } from '../../src/cli';
import type { ValidateInputRaw } from '../../src/shared/validate-input';
import type { ValidationReport } from '../../src/shared/validation-report';
import { createDemoEventsTable, insertDemoEvents } from '../../examples/demo/sql/demo-events';
import { createHarness, exampleJob, type Harness } from '../helpers/backfill-harness';
import { freshDatabase } from '../helpers/chdb-env';
import { createMotoCollection, MOTO_COLLECTION, startMotoServer } from '../../examples/demo/moto-server';

const COLUMNS = 'user_id, host, device_ip, date, daily_events, daily_sum_ctr, daily_sum_sq_ctr, hours';

describe('validation of the target against a reference (the legacy Spark output)', () => {
  let h: Harness;
  let db: string;
  let firstKey: { user_id: string; host: string; device_ip: string; date: string };
  const parquetFiles: string[] = [];

  /** A reference table with the target's rows as `select` (over the target, aliased `t`) returns them. */
  async function referenceTable(select: string): Promise<string> {
    const name = `ref_${randomUUID().replace(/-/g, '').slice(0, 8)}`;
    await h.ch.exec({
      query: `CREATE TABLE {db:Identifier}.{name:Identifier} ENGINE = MergeTree ORDER BY tuple() AS ${select}`,
      params: { db, name, ...firstKey },
    });
    return `${db}.${name}`;
  }

  /** A Parquet file written by ClickHouse itself, as a Spark job would export the table. */
  async function referenceParquet(select: string): Promise<string> {
    const file = path.join(tmpdir(), `ch-backfill-ref-${randomUUID()}.parquet`);
    parquetFiles.push(file);
    await h.ch.exec({
      query: `INSERT INTO FUNCTION file({file:String}, 'Parquet') ${select}`,
      params: { file, db, ...firstKey },
    });
    return file;
  }

  const everyRow = `SELECT ${COLUMNS} FROM {db:Identifier}.events_daily AS t`;
  const isFirst =
    'user_id = {user_id:UInt64} AND host = {host:String} AND device_ip = toIPv4({device_ip:String}) AND date = {date:Date}';

  async function validate(reference: ValidateInputRaw['reference'], extra: Partial<ValidateInputRaw> = {}) {
    return h.withWorker(() =>
      h.env.client.workflow.execute('validateWorkflow', {
        taskQueue: h.taskQueue,
        workflowId: `validate-${randomUUID()}`,
        args: [{ job: exampleJob(db), reference, from: '2024-01-01', to: '2024-01-31', ...extra }],
      }),
    ) as Promise<ValidationReport>;
  }

  /** The failure of a validation expected to fail: its message and its report. */
  async function mismatch(reference: ValidateInputRaw['reference'], extra: Partial<ValidateInputRaw> = {}) {
    const err = await validate(reference, extra).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(WorkflowFailedError);
    const cause = (err as WorkflowFailedError).cause;
    expect(cause).toBeInstanceOf(ApplicationFailure);
    const failure = cause as ApplicationFailure;
    expect(failure.type).toBe('ValidationMismatch');
    return { message: failure.message, report: failure.details?.[0] as ValidationReport };
  }

  beforeAll(async () => {
    h = await createHarness();
    db = await freshDatabase(h.ch, 'validate');
    const events = { database: db, name: 'events' };
    await h.ch.exec(createDemoEventsTable(events));
    await h.ch.exec(insertDemoEvents(events, '2024-01-01', 1, 20_000));
    await h.backfill({ job: exampleJob(db), from: '2024-01-01', to: '2024-01-31' });
    [firstKey] = await h.ch.rows({
      query: `SELECT toString(user_id) AS user_id, host, toString(device_ip) AS device_ip, toString(date) AS date
              FROM {db:Identifier}.events_daily ORDER BY user_id, host, device_ip, date LIMIT 1`,
      params: { db },
    });
  });
  afterAll(async () => {
    await h.close();
    for (const f of parquetFiles) rmSync(f, { force: true });
  });

  it('passes on a reference table equal to the target, comparing three sampled keys value by value', async () => {
    const report = await validate({ kind: 'table', table: await referenceTable(everyRow) });

    expect(report.ok).toBe(true);
    expect(report.days).toHaveLength(28); // the demo spreads a month of events over 28 days
    expect(report.sums.map((s) => s.metric)).toEqual(['daily_events', 'daily_sum_ctr', 'daily_sum_sq_ctr']);
    expect(report.sampled).toHaveLength(3);
    expect(report.sampled.flatMap((s) => s.columns).every((c) => c.ok)).toBe(true);
  });

  it('passes on an equal Parquet reference written by ClickHouse, with a full row-by-row diff', async () => {
    const file = await referenceParquet(everyRow);
    const report = await validate({ kind: 'file', path: file }, { fullDiff: true, sampleKeys: 5 });

    expect(report.ok).toBe(true);
    expect(report.fullDiff?.differing).toBe(0);
    expect(report.sampled).toHaveLength(5);
  });

  it('reads an s3 reference through a named collection; refuses a signed URL before anything runs', async () => {
    const s3 = await startMotoServer('reference');
    try {
      await h.ch.exec({ query: createMotoCollection, params: {} });
      const url = s3.url('spark/events_daily.parquet');
      await h.ch.exec({
        query: `INSERT INTO FUNCTION s3(${MOTO_COLLECTION}, url = {url:String}, format = 'Parquet') ${everyRow}`,
        params: { url, db },
      });
      const report = await validate({ kind: 's3', path: url, namedCollection: MOTO_COLLECTION });
      expect(report.ok).toBe(true);
      expect(report.reference).toBe(`s3(${MOTO_COLLECTION}, url = ${url}, Parquet)`);

      const signed = `${url}?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIA%2F20241217&X-Amz-Signature=ab12`;
      const refused = await validate({ kind: 'url', path: signed }).then(
        () => undefined,
        (e: unknown) => e as WorkflowFailedError,
      );
      expect(refused).toBeInstanceOf(WorkflowFailedError);
      const message = `${refused?.message} ${refused?.cause?.message ?? ''}`;
      expect(message).toMatch(/must not be a signed URL \(it holds x-amz-credential\)/);
      // Refused when the input was read: no activity saw the URL, and the failure does not repeat its signature.
      expect(message).not.toContain('ab12');
    } finally {
      await s3.stop();
    }
  }, 120_000);

  it('fails on a changed value and names the differing key', async () => {
    const changed = `SELECT user_id, host, device_ip, date, daily_events + if(${isFirst}, 1, 0) AS daily_events,
      daily_sum_ctr, daily_sum_sq_ctr, hours FROM {db:Identifier}.events_daily`;
    const { message, report } = await mismatch(
      { kind: 'table', table: await referenceTable(changed) },
      { fullDiff: true },
    );

    expect(message).toContain('sum(daily_events)');
    expect(report.fullDiff?.differing).toBe(1);
    expect(report.fullDiff?.examples[0]).toEqual({ key: firstKey, columns: ['daily_events'] });
    expect(report.firstDifferingKeys).toContainEqual(firstKey);
  });

  it('fails on a key missing from the reference, counting it and showing it', async () => {
    const missing = `${everyRow} WHERE NOT (${isFirst})`;
    const { message, report } = await mismatch({ kind: 'table', table: await referenceTable(missing) });

    expect(message).toContain('1 key(s) only in the target');
    expect(report.onlyInTarget).toEqual({ count: 1, examples: [firstKey] });
    expect(report.days.filter((d) => !d.ok)).toEqual([
      { day: firstKey.date, target: expect.any(Number), reference: expect.any(Number), ok: false },
    ]);
  });

  it('fails on an extra row in a Parquet reference', async () => {
    const extra = `${everyRow} UNION ALL SELECT 999999999 AS user_id, 'extra.example' AS host, toIPv4('10.9.9.9') AS device_ip,
      toDate('2024-01-15') AS date, 1 AS daily_events, 0.5 AS daily_sum_ctr, 0.25 AS daily_sum_sq_ctr, [3] AS hours`;
    const { message, report } = await mismatch({ kind: 'file', path: await referenceParquet(extra) });

    expect(message).toContain('1 key(s) only in the reference');
    expect(message).toContain('rows on 2024-01-15');
    expect(report.onlyInReference.examples).toEqual([
      { user_id: '999999999', host: 'extra.example', device_ip: '10.9.9.9', date: '2024-01-15' },
    ]);
  });

  it('fails on a float beyond the relative tolerance in a Parquet reference, and passes within it', async () => {
    const scaled = (factor: string) =>
      `SELECT user_id, host, device_ip, date, daily_events, daily_sum_ctr * if(${isFirst}, ${factor}, 1) AS daily_sum_ctr,
        daily_sum_sq_ctr, hours FROM {db:Identifier}.events_daily`;
    const beyond = await referenceParquet(scaled('1.001'));
    const within = await referenceParquet(scaled('1.0000001'));

    const { message } = await mismatch({ kind: 'file', path: beyond }, { relativeTolerance: 1e-6, fullDiff: true });
    expect(message).toContain('1 row(s) differ');
    expect(message).toContain(`user_id=${firstKey.user_id}`);
    const report = await validate({ kind: 'file', path: within }, { relativeTolerance: 1e-6, fullDiff: true });
    expect(report.ok).toBe(true);
  });
  it('ch-backfill validate prints the report, as JSON too, and exits non-zero on a mismatch', async () => {
    const jobFile = path.join(tmpdir(), `ch-backfill-job-${randomUUID()}.json`);
    parquetFiles.push(jobFile);
    writeFileSync(jobFile, JSON.stringify(exampleJob(db)));
    const equal = await referenceParquet(everyRow);
    const changed = await referenceTable(`${everyRow} WHERE NOT (${isFirst})`);
    const saved = { address: process.env.TEMPORAL_ADDRESS, queue: process.env.TEMPORAL_TASK_QUEUE };
    process.env.TEMPORAL_ADDRESS = h.env.address;
    process.env.TEMPORAL_TASK_QUEUE = h.taskQueue;
    const out: string[] = [];
    const log = jest.spyOn(console, 'log').mockImplementation((text: string) => void out.push(text));
    const error = jest.spyOn(console, 'error').mockImplementation((text: string) => void out.push(text));
    const cli = (...args: string[]) => runCli(['node', 'ch-backfill', 'validate', '--job', jobFile, ...args]);
    try {
      const [ok, bad] = await h.withWorker(async () => [
        await cli('--reference', equal, '--from', '2024-01-01', '--to', '2024-01-31', '--json'),
        await cli('--reference', changed, '--date', firstKey.date),
      ]);

      expect(ok).toBe(0);
      expect(JSON.parse(out[0])).toMatchObject({ ok: true, reference: `file(${equal}, Parquet)` });
      expect(bad).toBe(1);
      expect(out[1]).toMatch(/^MISMATCH: /);
      expect(out[1]).toContain(`first differing keys: user_id=${firstKey.user_id}`);
      expect(out[2]).toContain('validation failed');
      expect(out[2]).toMatch(/\(workflow validate-\S+\)$/);

      // A signed URL is refused before any workflow starts: it never reaches an input or a history.
      const signed = 'https://bucket.s3.amazonaws.com/spark/x.parquet?X-Amz-Signature=ab12&X-Amz-Credential=AKIA';
      expect(await cli('--reference', signed, '--date', firstKey.date)).toBe(1);
      expect(out.join('\n')).toMatch(/--reference: reference\.path: must not be a signed URL/);
    } finally {
      log.mockRestore();
      error.mockRestore();
      process.env.TEMPORAL_ADDRESS = saved.address;
      process.env.TEMPORAL_TASK_QUEUE = saved.queue;
    }
  });
});
