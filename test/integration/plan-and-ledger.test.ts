import { selectVersion } from '../../src/sql/engine/server-profile';
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { JobSpecError } from '../../src/activities/engine/errors';
import type { StepPoint } from '../../src/activities';
import type { BackfillDescription, PlannedStatement } from '../../src/shared/backfill-description';
import type { BackfillSummary } from '../../src/shared/backfill-results';
import type { DailyInputRaw } from '../../src/shared/daily-input';
import type { JobSpecInput } from '../../src/shared/job-spec';
import type { LedgerEntry } from '../../src/shared/ledger';
import { serviceWorkflowId } from '../../src/shared/service-workflow';
import { writerTag } from '../../src/shared/writer-tables';
import { createDemoEventsTable, insertDemoEvents } from '../../examples/demo/sql/demo-events';
import { createLedgerTable, insertLedgerRow, type LedgerRecord } from '../../src/sql/engine/ledger';
import { createHarness, exampleJob, type Harness } from '../helpers/backfill-harness';
import { freshDatabase } from '../helpers/chdb-env';
import { recordingClickHouse, type RecordedStatement } from '../helpers/recording-clickhouse';
import { runCliCaptured } from '../helpers/run-cli-captured';
import { targetAndSingleLevel } from '../helpers/target-digest';
import { statementOf } from '../helpers/statement-of';

/*
 * `ch-backfill plan`, the ledger and `start --only`, through the CLI against a real dev server and the embedded
 * engine. The worker runs through a recording wrapper of ClickHouse, so a test can compare what a plan printed with
 * the statements the run then sent, and count a run's INSERTs.
 */

describe('plan, the ledger and --only', () => {
  let h: Harness;
  let stopWorker: () => void;
  let worker: Promise<unknown>;
  let recorder: ReturnType<typeof recordingClickHouse>;
  /** Partitions whose next build fails once (injected at `insert:started`). */
  const failOnce = new Set<string>();
  /** A partition whose next build waits, while it holds its lock, until released. */
  let hold: { partition: string; reached: () => void; released: Promise<void> } | undefined;

  const cli = (...args: string[]) =>
    runCliCaptured({ TEMPORAL_ADDRESS: h.env.address, TEMPORAL_TASK_QUEUE: h.taskQueue }, ...args);
  const jobFile = (job: JobSpecInput): string => {
    const file = path.join(tmpdir(), `plan-job-${randomUUID()}.json`);
    writeFileSync(file, JSON.stringify(job));
    return file;
  };
  /** Every table of `db` with its row count (metadata): what "changes nothing" compares. */
  const tables = (db: string) =>
    h.ch.rows(
      statementOf<{ name: string; rows: string }>({
        query:
          'SELECT name, toString(total_rows) AS rows FROM system.tables WHERE database = {db:String} ORDER BY name',
        params: { db },
      }),
    );
  const events = (db: string) => ({ database: db, name: 'events' });
  async function seeded(prefix: string, months: number): Promise<string> {
    const db = await freshDatabase(h.ch, prefix);
    await h.ch.exec(createDemoEventsTable(events(db)));
    await h.ch.exec(insertDemoEvents(events(db), '2024-01-01', months, 10_000 * months));
    return db;
  }
  /** Adds `rows` events on `day`, with users of their own. */
  const addEventsOn = (db: string, day: string, rows: number) =>
    h.ch.exec({
      query: `INSERT INTO {db:Identifier}.events (ts, user_id, host, device_ip, ctr)
              SELECT toDateTime({day:Date}) + number % 86400, 7000000 + number % 31, 'late.example',
                     toIPv4('10.2.2.2'), (number % 10) / 10 FROM numbers({rows:UInt64})`,
      params: { db, day, rows },
    });
  const planJson = async (...args: string[]): Promise<BackfillDescription> => {
    const run = await cli('plan', ...args, '--json');
    expect(run.err).toBe('');
    return JSON.parse(run.out) as BackfillDescription;
  };
  /** Runs `start` (waiting) while recording what the worker sends; returns the summary's partitions and the run. */
  async function recordedStart(...args: string[]) {
    recorder.sent.length = 0;
    recorder.recording = true;
    let run;
    try {
      run = await cli('start', ...args);
    } finally {
      recorder.recording = false;
    }
    const id = /^started (\S+)/.exec(run.out)?.[1] ?? '';
    const handle = h.env.client.workflow.getHandle(id);
    const summary = (await handle.result().catch((err: { cause?: { details?: unknown[] } }) => {
      return err.cause?.details?.[0];
    })) as BackfillSummary;
    return { run, id, handle, summary, sent: [...recorder.sent] };
  }
  /** The shadow INSERTs a run sent, by partition (a build's INSERT … SELECT into its `_v2_` shadow). */
  const builds = (sent: RecordedStatement[]): string[] =>
    sent
      .filter((s) => s.query.startsWith('INSERT INTO') && String(s.params.into ?? '').includes('_v2_'))
      .map((s) => String(s.params.into).split('_v2_')[1].split('_')[0]);
  const historyOf = async (target: string, ...args: string[]): Promise<LedgerEntry[]> => {
    const run = await cli('history', target, ...args, '--json');
    expect(run.err).toBe('');
    return (JSON.parse(run.out) as { entries: LedgerEntry[] }).entries;
  };

  beforeAll(async () => {
    h = await createHarness();
    recorder = recordingClickHouse(h.ch);
    const onStep = async (point: StepPoint, partition: string): Promise<void> => {
      if (point !== 'insert:started') return;
      if (failOnce.delete(partition)) throw new JobSpecError('test', `injected failure of ${partition}`);
      if (hold?.partition === partition) {
        const { reached, released } = hold;
        hold = undefined;
        reached();
        await released;
      }
    };
    const stopped = new Promise<void>((resolve) => (stopWorker = resolve));
    worker = h.withWorker(() => stopped, { clickhouse: recorder.ch, onStep });
  });

  afterAll(async () => {
    stopWorker?.();
    await worker;
    await h?.close();
  });

  /** Each planned statement, its shadow and backup names given the run's writer tag, appears in `sent`, in order. */
  function expectPlanRan(planned: PlannedStatement[], sent: RecordedStatement[], tag: string): void {
    const named = (st: PlannedStatement) =>
      JSON.parse(
        JSON.stringify({ query: st.query, params: st.params, settings: st.settings }).replaceAll('_TAG', `_${tag}`),
      ) as RecordedStatement;
    const same = (a: unknown, b: unknown) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
    let from = 0;
    for (const st of planned) {
      const want = named(st);
      // The ledger row's values exist only at the swap (the plan says so in a note): its text must match.
      const at = sent.findIndex(
        (s, i) =>
          i >= from &&
          s.query === want.query &&
          (st.note !== undefined || same(s.params, want.params)) &&
          same(s.settings, want.settings),
      );
      if (at < 0) throw new Error(`${st.step}: not sent (in this order) by the run:\n${want.query}`);
      from = at + 1;
    }
    const plannedText = new Set(planned.map((st) => named(st).query));
    const writes = sent.filter((s) => /^(INSERT|ALTER|CREATE|DROP|TRUNCATE)/.test(s.query));
    expect(writes.filter((s) => !plannedText.has(s.query))).toEqual([]);
  }

  it('plan changes nothing and prints the very statements the run then sends, on a new and on a live target', async () => {
    const db = await seeded('plan', 3);
    const file = jobFile(exampleJob(db));
    const range = ['--from', '2024-01-01', '--to', '2024-03-31'];
    const before = await tables(db);

    const text = await cli('plan', '--job', file, ...range);
    const fresh = await planJson('--job', file, ...range);

    expect(text.err).toBe('');
    expect(text.out).toContain(`source ${db}.events → target ${db}.events_daily (to create)`);
    expect(text.out).toMatch(/^ {3}202401 +10,000 +[\d.]+ KiB +0 +1 +rebuild +changed: not in the ledger$/m);
    expect(text.out).toContain('estimate: no basis for an estimate');
    // The server profile, detected for real: the embedded engine with its own version, the job's tables' engines.
    const [{ version }] = await h.ch.rows(selectVersion());
    expect(fresh.server).toMatchObject({
      topology: 'embedded',
      version,
      tableEngines: { [`${db}.events`]: 'MergeTree' },
    });
    expect(fresh.server.hosts).toHaveLength(1);
    expect(text.out).toContain(`server: embedded, ClickHouse ${version}, 1 host (`);
    expect(fresh.partitions.map((p) => [p.id, p.action])).toEqual([
      ['202401', 'rebuild'],
      ['202402', 'rebuild'],
      ['202403', 'rebuild'],
    ]);
    expect(await tables(db)).toEqual(before);

    const first = await recordedStart('--job', file, ...range, '--workflow-id', `first-${db}`);
    expect(first.run.code).toBe(0);
    const { firstExecutionRunId } = await first.handle.describe().then((d) => ({ firstExecutionRunId: d.runId }));
    expectPlanRan(fresh.statements, first.sent, writerTag(first.id, firstExecutionRunId));
    expect(first.sent.filter((s) => s.query.includes('_backup_'))).toEqual([]);

    // Now the target is live: the run keeps a backup of each partition, and March, gone from the source, is emptied.
    await h.ch.exec({ query: `ALTER TABLE ${db}.events DROP PARTITION 202403`, params: {} });
    await addEventsOn(db, '2024-02-10', 300);
    const live = await planJson('--job', file, ...range);
    expect(live.partitions.map((p) => [p.id, p.action])).toEqual([
      ['202401', 'rebuild'],
      ['202402', 'rebuild'],
      ['202403', 'empty a stale partition'],
    ]);
    const second = await recordedStart('--job', file, ...range, '--workflow-id', `second-${db}`, '--allow-shrink');
    expect(second.run.code).toBe(0);
    const secondRun = (await second.handle.describe()).runId;
    expectPlanRan(live.statements, second.sent, writerTag(second.id, secondRun));
    expect(second.sent.some((s) => s.query.startsWith('ALTER TABLE') && s.query.includes('DROP PARTITION'))).toBe(true);
    expect(second.sent.filter((s) => s.query.includes('ATTACH PARTITION')).length).toBe(3);
    const digests = await targetAndSingleLevel(h.ch, db);
    expect(digests.target).toEqual(digests.expected);
  });

  it("plan is answered by the queue's helper-tagged service workflow, so `BackfillRole IS NULL` lists only the jobs", async () => {
    const db = await seeded('helper', 1);
    const run = await cli('plan', '--job', jobFile(exampleJob(db)), '--from', '2024-01-01', '--to', '2024-01-31');
    expect(run.err).toBe('');
    const ids = async (query: string): Promise<string[]> => {
      const found: string[] = [];
      for await (const w of h.env.client.workflow.list({ query: `TaskQueue = '${h.taskQueue}' AND ${query}` })) {
        found.push(w.workflowId);
      }
      return found;
    };
    expect(await ids(`BackfillRole = 'helper' AND WorkflowType = 'backfillServiceWorkflow'`)).toEqual([
      serviceWorkflowId(h.taskQueue),
    ]);
    const jobs = await ids('BackfillRole IS NULL');
    expect(jobs).not.toContain(serviceWorkflowId(h.taskQueue));
    expect(jobs.filter((id) => /^(describe-backfill|ledger-history|doctor)-/.test(id))).toEqual([]);
  });

  it('plan refuses bad input exactly as start does, creating nothing', async () => {
    const db = await seeded('refuse', 1);
    const file = jobFile(exampleJob(db));
    const unknownColumn = jobFile(exampleJob(db, { metrics: { daily_events: 'count()', clicks: 'sum(clicks)' } }));
    const before = await tables(db);
    const cases = [
      ['--job', file, '--from', '2024-01-31', '--to', '2024-01-01'],
      ['--job', file, '--from', '2024-02-30', '--to', '2024-03-01'],
      ['--job', file, '--from', '2024-01-01'],
      ['--job', file, '--from', '2024-01-01', '--to', '2024-01-31', '--only', 'sometimes'],
      ['--job', file, '--from', '2024-01-01', '--to', '2024-01-31', '--only', 'failed'],
      ['--job', file, '--from', '2024-01-01', '--to', '2024-01-31', '--retry-of', 'x'],
    ];
    for (const args of cases) {
      const plan = await cli('plan', ...args);
      const start = await cli('start', ...args, '--no-wait');
      expect({ args, code: plan.code, err: plan.err }).toEqual({ args, code: 1, err: start.err });
      expect(start.out).toBe('');
    }
    const worker = (err: string) => /failed: (.*) \(inspect it with/.exec(err)?.[1];
    const plan = await cli('plan', '--job', unknownColumn, '--from', '2024-01-01', '--to', '2024-01-31');
    const start = await cli('start', '--job', unknownColumn, '--from', '2024-01-01', '--to', '2024-01-31');
    expect(plan.code).toBe(1);
    expect(worker(plan.err)).toContain('metrics.clicks: column "clicks" does not exist');
    expect(worker(plan.err)).toEqual(worker(start.err));
    expect(await tables(db)).toEqual(before);
  });

  it('plan --test-day aggregates one day into a scratch table, checks and samples it, and leaves no table behind', async () => {
    const db = await seeded('testday', 1);
    const before = await tables(db);

    const run = await cli('plan', '--job', jobFile(exampleJob(db)), '--test-day', '2024-01-10');
    // An INSERT that fails after the scratch table was created (the checks pass: only running it divides by 0).
    const base = exampleJob(db);
    const dividing = { ...base, metrics: { ...base.metrics, daily_sum_ctr: 'sum(intDiv(user_id, 0))' } };
    const failing = await cli('plan', '--job', jobFile(dividing), '--test-day', '2024-01-10');

    expect(run.err).toBe('');
    expect(run.code).toBe(0);
    expect(run.out).toMatch(
      new RegExp(
        `aggregated into ${db}\\.events_daily_test_20240110_[0-9a-f]{8} \\(dropped again; the target was not touched\\)`,
      ),
    );
    expect(run.out).toMatch(/^ {2}ok {6} {2}sum\(daily_events\) = source rows: 357$/m);
    expect(run.out).toMatch(/^ {2}ok {6} {2}rows = distinct keys and dates: \d+$/m);
    expect(run.out).toContain('3 output rows, each with up to 3 of the source rows it came from:');
    const outputs = run.out.split('\n').filter((l) => /^ {2}user_id=/.test(l));
    const sources = run.out.split('\n').filter((l) => /^ {4}← ts=2024-01-10 /.test(l));
    expect(outputs).toHaveLength(3);
    expect(sources.length).toBeGreaterThanOrEqual(3);
    // Each output row is followed by source rows of its own key.
    const key = (line: string) => /user_id=(\d+) host=(\S+) device_ip=(\S+)/.exec(line)?.slice(1).join(' ');
    const lines = run.out.split('\n');
    for (const out of outputs) expect(key(lines[lines.indexOf(out) + 1])).toBe(key(out));
    expect(failing.code).toBe(1);
    expect(failing.err).toMatch(/division by zero/i);
    expect(await tables(db)).toEqual(before);
  });

  it('--only changed rebuilds exactly the month whose source changed; history shows every swap, newest first', async () => {
    const db = await seeded('changed', 3);
    const file = jobFile(exampleJob(db));
    const range = ['--job', file, '--from', '2024-01-01', '--to', '2024-03-31'];
    const full = await recordedStart(...range, '--workflow-id', `full-${db}`);
    expect(builds(full.sent)).toEqual(['202401', '202402', '202403']);

    const unchanged = await planJson(...range, '--only', 'changed');
    expect(unchanged.modes.changed).toEqual([]);
    expect(unchanged.partitions.map((p) => p.action)).toEqual(Array(3).fill('skip: unchanged'));
    expect(unchanged.partitions.map((p) => p.change.reason)).toEqual(
      Array(3).fill(expect.stringMatching(new RegExp(`^unchanged since \\S+ \\(full-${db}\\)$`))),
    );

    // A mutation changes no row count, and ClickHouse renumbers every part of the table for it: only March's content
    // changes, and only March is rebuilt.
    await h.ch.exec({
      query: `ALTER TABLE ${db}.events UPDATE ctr = ctr / 2 WHERE toYYYYMM(ts) = 202403 SETTINGS mutations_sync = 2`,
      params: {},
    });
    const march = await recordedStart(...range, '--only', 'changed', '--workflow-id', `mar-${db}`);
    await addEventsOn(db, '2024-02-10', 500);
    const plan = await cli('plan', ...range, '--only', 'changed');
    const february = await recordedStart(...range, '--only', 'changed', '--workflow-id', `feb-${db}`);
    // A merge rewrites February's parts without changing a row.
    await h.ch.exec({ query: `OPTIMIZE TABLE ${db}.events PARTITION 202402 FINAL`, params: {} });
    const [merged] = await h.ch.rows(
      statementOf<{ n: string }>({
        query: `SELECT toString(count()) AS n FROM system.parts WHERE database = {db:String} AND table = 'events'
              AND partition_id = '202402' AND active`,
        params: { db },
      }),
    );
    const nothing = await recordedStart(...range, '--only', 'changed', '--workflow-id', `none-${db}`);

    expect(plan.out).toMatch(/^ {3}202402 .* rebuild +changed: source rows 10000 → 10500$/m);
    expect(plan.out).toContain('each mode would take: all: 202401 202402 202403; missing: none; changed: 202402');
    expect(builds(february.sent)).toEqual(['202402']);
    expect(february.summary.partitions.map((p) => p.partition)).toEqual(['202402']);
    expect(builds(march.sent)).toEqual(['202403']);
    expect(merged.n).toBe('1');
    expect(builds(nothing.sent)).toEqual([]);
    expect(nothing.summary.partitions).toEqual([]);
    // Nothing to do is said as such, with the ledger rows trusted, not as an empty table of swaps.
    const since = nothing.summary.unchanged?.since ?? '';
    expect(nothing.summary.unchanged).toMatchObject({
      count: 3,
      rows: [
        { partition: '202401', writer: `full-${db}`, targetRows: expect.any(Number) },
        { partition: '202402', writer: `feb-${db}` },
        { partition: '202403', writer: `mar-${db}` },
      ],
    });
    expect(since).toBe(
      nothing.summary.unchanged?.rows
        .map((r) => r.swappedAt)
        .sort()
        .at(-1),
    );
    expect(nothing.run.out).toContain(`3 partitions unchanged since ${since}: nothing to do`);
    expect(nothing.run.out).toMatch(new RegExp(`^ {3}202402 +[\\d,]+ +\\S+ +feb-${db}$`, 'm'));
    expect(nothing.run.out).not.toContain('partitions swapped');
    const digests = await targetAndSingleLevel(h.ch, db);
    expect(digests.target).toEqual(digests.expected);

    const history = await historyOf(`${db}.events_daily`);
    expect(history.map((e) => [e.partition, e.writer, e.build, e.action])).toEqual([
      ['202402', `feb-${db}`, 'rebuild', 'replaced'],
      ['202403', `mar-${db}`, 'rebuild', 'replaced'],
      ['202403', `full-${db}`, 'rebuild', 'replaced'],
      ['202402', `full-${db}`, 'rebuild', 'replaced'],
      ['202401', `full-${db}`, 'rebuild', 'replaced'],
    ]);
    expect((await historyOf(`${db}.events_daily`, '--partition', '202402')).map((e) => e.fingerprint?.rows)).toEqual([
      10_500, 10_000,
    ]);
    const text = await cli('history', `${db}.events_daily`, '--partition', '202402');
    expect(text.out.split('\n')[0]).toBe(
      `${db}._backfill_ledger on ${db}.events_daily partition 202402: 2 rows, newest first`,
    );
    expect(text.out).toMatch(new RegExp(`202402 +rebuild +replaced +10,500 +[\\d,]+ +[0-9a-f]{16} +feb-${db} +yes`));
  });

  it('a changed job definition makes every partition changed; a changed setting does not', async () => {
    const db = await seeded('jobhash', 2);
    const range = ['--from', '2024-01-01', '--to', '2024-02-29', '--only', 'changed'];
    const full = await recordedStart(
      '--job',
      jobFile(exampleJob(db)),
      ...range.slice(0, 4),
      '--workflow-id',
      `jh-${db}`,
    );
    expect(full.run.code).toBe(0);
    const base = exampleJob(db);

    const redefined = await planJson(
      '--job',
      jobFile({ ...base, metrics: { ...base.metrics, daily_sum_ctr: 'sum(ctr * 2)' } }),
      ...range,
    );
    const retuned = await planJson('--job', jobFile({ ...base, chunkSize: 7, parallelism: 2 }), ...range);

    expect(redefined.modes.changed).toEqual(['202401', '202402']);
    expect(redefined.partitions.map((p) => p.change.reason)).toEqual(
      Array(2).fill(`job definition changed since jh-${db}`),
    );
    expect(retuned.modes.changed).toEqual([]);
  });

  it('late data after a daily run is picked up by --only changed, and the days the daily run loaded are not redone', async () => {
    const db = await seeded('late', 1);
    const job = exampleJob(db, { daily: { pollInterval: '1s', deadline: '10m' } } as Partial<JobSpecInput>);
    const range = ['--job', jobFile(job), '--from', '2024-01-01', '--to', '2024-01-31'];
    await recordedStart(...range, '--workflow-id', `late-full-${db}`);

    await addEventsOn(db, '2024-01-20', 400);
    const input: DailyInputRaw = { job, date: '2024-01-20', timezone: 'UTC' };
    await h.env.client.workflow.execute('dailyIncrementalWorkflow', {
      taskQueue: h.taskQueue,
      workflowId: `daily-${db}`,
      args: [input],
    });
    const afterDaily = await planJson(...range, '--only', 'changed');
    await addEventsOn(db, '2024-01-05', 200);
    const afterLate = await planJson(...range, '--only', 'changed');
    const rerun = await recordedStart(...range, '--only', 'changed', '--workflow-id', `late-changed-${db}`);

    expect(afterDaily.partitions[0].action).toBe('skip: unchanged');
    expect(afterDaily.partitions[0].change.reason).toMatch(new RegExp(`^unchanged since \\S+ \\(daily-${db}\\)$`));
    expect(afterLate.partitions[0].action).toBe('rebuild');
    expect(afterLate.partitions[0].change.reason).toBe('source rows 10400 → 10600');
    expect(builds(rerun.sent)).toEqual(['202401']);
    const digests = await targetAndSingleLevel(h.ch, db);
    expect(digests.target).toEqual(digests.expected);
    expect(
      (await historyOf(`${db}.events_daily`)).map((e) => [e.writer, e.build, e.fingerprint !== undefined]),
    ).toEqual([
      [`late-changed-${db}`, 'rebuild', true],
      [`daily-${db}`, 'day 2024-01-20', true],
      [`late-full-${db}`, 'rebuild', true],
    ]);
  });

  it('--only failed --retry-of takes the partitions that failed in that backfill, found without asking the worker', async () => {
    const db = await seeded('failed', 3);
    const range = ['--job', jobFile(exampleJob(db)), '--from', '2024-01-01', '--to', '2024-03-31'];
    failOnce.add('202402');
    const failed = await recordedStart(...range, '--workflow-id', `failing-${db}`);
    expect(failed.run.code).toBe(1);

    const plan = await cli('plan', ...range, '--only', 'failed', '--retry-of', `failing-${db}`);
    const retry = await recordedStart(
      ...range,
      '--only',
      'failed',
      '--retry-of',
      `failing-${db}`,
      '--workflow-id',
      `retry-${db}`,
    );

    expect(plan.out).toContain(
      'each mode would take: all: 202401 202402 202403; missing: 202402; changed: 202402; failed: 202402',
    );
    expect(plan.out).toMatch(new RegExp(`^ {3}202401 .* skip: did not fail in failing-${db} +unchanged since`, 'm'));
    expect(builds(retry.sent)).toEqual(['202402']);
    const digests = await targetAndSingleLevel(h.ch, db);
    expect(digests.target).toEqual(digests.expected);
  });

  it('a swap recorded again (a retried swapPartition) is one ledger row; another run of the partition is another', async () => {
    const db = await freshDatabase(h.ch, 'ledgerkey');
    const ledger = { database: db, name: '_backfill_ledger' };
    const row = (run: string): LedgerRecord => ({
      target: 'events_daily',
      partition: '202401',
      writer: 'backfill-1',
      writer_run: run,
      build: 'rebuild',
      action: 'replaced',
      job_hash: 'job',
      source: `${db}.events`,
      fingerprint_known: 1,
      source_rows: 10,
      source_version: 1,
      source_parts: 1,
      source_modified: 1_700_000_000,
      source_bytes: 100,
      source_hash: 'h',
      source_days: '{"2024-01-01":10}',
      source_day_hashes: '{"2024-01-01":"h"}',
      note: '',
      target_rows: 7,
      rows_read: 10,
      build_ms: 5,
      peak_memory: null,
    });
    await h.ch.exec(createLedgerTable(ledger));
    await h.ch.exec(insertLedgerRow(ledger, row('run-1')));
    await h.ch.exec(createLedgerTable(ledger));
    await h.ch.exec(insertLedgerRow(ledger, row('run-1')));
    const once = await historyOf(`${db}.events_daily`);
    await h.ch.exec(insertLedgerRow(ledger, row('run-2')));
    const twice = await historyOf(`${db}.events_daily`);

    expect(once.map((e) => [e.partition, e.writer, e.fingerprint?.days])).toEqual([
      ['202401', 'backfill-1', { '2024-01-01': 10 }],
    ]);
    expect(twice).toHaveLength(2);
  });

  it('plan shows a partition another job is writing as blocked by that job', async () => {
    const db = await seeded('blocked', 2);
    const range = ['--job', jobFile(exampleJob(db)), '--from', '2024-01-01', '--to', '2024-02-29'];
    let release = (): void => undefined;
    const reached = new Promise<void>((resolve) => {
      hold = { partition: '202401', reached: resolve, released: new Promise<void>((r) => (release = r)) };
    });
    const started = await cli('start', ...range, '--workflow-id', `holder-${db}`, '--no-wait');
    expect(started.code).toBe(0);
    await reached;
    let plan;
    try {
      plan = await cli('plan', ...range);
    } finally {
      release();
    }
    await h.env.client.workflow.getHandle(`holder-${db}`).result();

    expect(plan.out).toMatch(new RegExp(`^ {3}202401 .* blocked: held by holder-${db} `, 'm'));
    expect(plan.out).toMatch(/^ {3}202402 .* rebuild /m);
  });
});
