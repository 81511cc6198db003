import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Context } from '@temporalio/activity';
import type { WorkflowHandle } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { JobSpecError } from '../../src/activities/engine/errors';
import type { StepPoint } from '../../src/activities';
import type { ClickHouse } from '../../src/clickhouse/clickhouse';
import type { BackfillSummary } from '../../src/shared/backfill-results';
import type { JobSpecInput } from '../../src/shared/job-spec';
import { type BackfillProgress } from '../../src/shared/progress';
import { createDemoEventsTable, insertDemoEvents } from '../../examples/demo/sql/demo-events';
import { findTemporalCli } from '../../src/temporal/temporal-cli-path';
import { createHarness, exampleJob, type Harness } from '../helpers/backfill-harness';
import { freshDatabase } from '../helpers/chdb-env';
import { progressUntil } from '../helpers/progress-until';
import { runCliCaptured } from '../helpers/run-cli-captured';
import { targetAndSingleLevel } from '../helpers/target-digest';
import { progressQuery } from '../../src/shared/messages';
import { statementOf } from '../helpers/statement-of';

const run = promisify(execFile);

/**
 * Watches the worker's step points: which partitions are being written right now (from the start of a build to
 * the drop of its shadow), every time a second writer entered a partition already being written, and a gate that
 * holds the first build of a chosen partition until released.
 */
class WriterWatch {
  readonly writing = new Set<string>();
  readonly overlaps: string[] = [];
  private held: { partition: string; release?: () => void } | undefined;

  hold(partition: string): void {
    this.held = { partition };
  }

  release(): void {
    this.held?.release?.();
    this.held = undefined;
  }

  onStep = async (point: StepPoint, partition: string): Promise<void> => {
    if (point === 'cleanup:dropped') this.writing.delete(partition);
    if (point !== 'insert:started') return;
    if (this.writing.has(partition)) this.overlaps.push(partition);
    this.writing.add(partition);
    const held = this.held;
    if (held?.partition !== partition || held.release) return;
    const signal = Context.current().cancellationSignal;
    await new Promise<void>((resolve) => {
      held.release = resolve;
      signal.addEventListener('abort', () => resolve());
    });
  };
}

describe('one writer per target partition, whoever starts it', () => {
  let h: Harness;
  let env: TestWorkflowEnvironment;
  let ch: ClickHouse;
  let db: string;
  const watch = new WriterWatch();

  const cli = (...args: string[]) =>
    runCliCaptured({ TEMPORAL_ADDRESS: env.address, TEMPORAL_TASK_QUEUE: h.taskQueue }, ...args);
  const temporal = (...args: string[]) =>
    run(findTemporalCli(), [...args, '--address', env.address, '--namespace', env.namespace ?? 'default']);
  const jobFile = (job: JobSpecInput): string => {
    const file = path.join(tmpdir(), `job-${randomUUID()}.json`);
    writeFileSync(file, JSON.stringify(job));
    return file;
  };
  const waitingIn = async (handle: WorkflowHandle, lock: string): Promise<BackfillProgress> =>
    progressUntil(
      handle,
      (p) => p.partitions.some((x) => x.state === 'waiting' && x.waitingFor === lock),
      `waiting for ${lock}`,
    );

  beforeAll(async () => {
    h = await createHarness();
    ({ env, ch } = h);
    db = await freshDatabase(ch, 'overlap');
    const events = { database: db, name: 'events' };
    await ch.exec(createDemoEventsTable(events));
    await ch.exec(insertDemoEvents(events, '2024-01-01', 4, 40_000));
  });
  afterAll(() => h?.close());
  afterEach(() => watch.release());

  it('two overlapping backfills started at once, from our CLI and the Temporal CLI, take turns per partition and both end correct', async () => {
    // The same target, spelled without and with its database: both resolve to the one lock per partition.
    const table = `overlap_${randomUUID().replace(/-/g, '').slice(0, 8)}`;
    const job = (target: string) =>
      exampleJob(db, { target: { table: target }, chunkSize: 2_000, safety: { busyRecheckSeconds: 1 } });
    const lock = `partition:default.${table}/202402`;
    watch.hold('202402');
    await h.withWorker(
      async () => {
        const [ours] = await Promise.all([
          cli('start', '--job', jobFile(job(table)), '--from', '2024-02-01', '--to', '2024-04-30', '--no-wait'),
          temporal(
            'workflow',
            'start',
            '--task-queue',
            h.taskQueue,
            '--type',
            'backfillWorkflow',
            '--workflow-id',
            `${table}-temporal-cli`,
            '--input',
            JSON.stringify({ job: job(`default.${table}`), from: '2024-01-01', to: '2024-03-31' }),
          ),
        ]);
        expect(ours.code).toBe(0);
        const first = env.client.workflow.getHandle(ours.out.match(/^started (\S+)/)?.[1] ?? '');
        const second = env.client.workflow.getHandle(`${table}-temporal-cli`);
        // Ours holds February (its first partition, held in its build); the other reaches February after January.
        const waiting = await waitingIn(second, lock);
        expect(waiting.partitions.map((p) => [p.id, p.state])).toEqual([
          ['202401', 'swapped'],
          ['202402', 'waiting'],
          ['202403', 'pending'],
        ]);
        const status = await cli('status', second.workflowId);
        expect(status.out).toContain(`202402  waiting (waiting for ${lock})`);
        watch.release();
        const summaries = (await Promise.all([first.result(), second.result()])) as BackfillSummary[];
        expect(summaries.map((s) => s.target)).toEqual([`default.${table}`, `default.${table}`]);
        expect(summaries.map((s) => s.partitions.map((p) => p.partition))).toEqual([
          ['202402', '202403', '202404'],
          ['202401', '202402', '202403'],
        ]);
      },
      { onStep: watch.onStep },
    );
    expect(watch.overlaps).toEqual([]);
    const [digests] = await ch.rows(
      statementOf<{ same: number }>({
        query: `SELECT
          (SELECT count(), sum(cityHash64(user_id, host, device_ip, date, daily_events)) FROM default.${table}) =
          (SELECT count(), sum(cityHash64(user_id, host, device_ip, toDate(ts), c)) FROM
            (SELECT user_id, host, device_ip, toDate(ts) AS ts, count() AS c FROM ${db}.events GROUP BY ALL)) AS same`,
        params: {},
      }),
    );
    expect(Number(digests.same)).toBe(1);
  });

  it('a job that says whenPartitionBusy: fail fails that partition at once, naming its writer, and the rest completes', async () => {
    const table = `busy_${randomUUID().replace(/-/g, '').slice(0, 8)}`;
    const job = (whenPartitionBusy: 'wait' | 'fail') =>
      exampleJob(db, { target: { table: `${db}.${table}` }, safety: { whenPartitionBusy } });
    watch.hold('202401');
    await h.withWorker(
      async () => {
        const holder = await env.client.workflow.start('backfillWorkflow', {
          taskQueue: h.taskQueue,
          workflowId: `${table}-holder`,
          args: [{ job: job('wait'), from: '2024-01-01', to: '2024-01-31' }],
        });
        await progressUntil(holder, (p) => p.partitions[0]?.step === 'insert', 'January held');
        const impatient = await env.client.workflow.start('backfillWorkflow', {
          taskQueue: h.taskQueue,
          workflowId: `${table}-impatient`,
          args: [{ job: job('fail'), from: '2024-01-01', to: '2024-02-29' }],
        });
        await expect(impatient.result()).rejects.toMatchObject({
          cause: {
            message: `1 of 2 partitions failed: 202401 (partition 202401 is being written by partition:${db}.${table}/202401 (safety.whenPartitionBusy: fail))`,
          },
        });
        expect((await impatient.query(progressQuery)).partitions.map((p) => p.state)).toEqual(['failed', 'swapped']);
        watch.release();
        await holder.result();
      },
      { onStep: watch.onStep },
    );
  });

  it('a manual daily run during another run of the same month waits for it, and the month ends with one copy of each day', async () => {
    // The waiting run tries again every second instead of every 10 s.
    const job = exampleJob(db, { safety: { busyRecheckSeconds: 1 } });
    const file = jobFile(job);
    await h.backfill({ job, from: '2024-01-01', to: '2024-04-30' });
    const lock = `partition:${db}.events_daily/202402`;
    watch.hold('202402');
    await h.withWorker(
      async () => {
        const scheduled = await env.client.workflow.start('dailyIncrementalWorkflow', {
          taskQueue: h.taskQueue,
          workflowId: `daily-${db}.events_daily-run-2024-02-11T03:00:00Z`,
          args: [{ job, date: '2024-02-10', timezone: 'UTC' }],
        });
        await progressUntil(scheduled, (p) => p.partitions[0]?.step === 'insert', 'the scheduled run building');
        const manual = cli('schedule', 'run', '--job', file, '--date', '2024-02-11');
        const manualHandle = env.client.workflow.getHandle(`daily-${db}.events_daily-manual`);
        await waitingIn(manualHandle, lock);
        const status = await cli('status', manualHandle.workflowId);
        expect(status.out).toContain(`202402  waiting (waiting for ${lock})`);
        watch.release();
        await scheduled.result();
        // Its printed line is not checked: `status` above captured the console meanwhile.
        expect((await manual).code).toBe(0);
        expect(await manualHandle.result()).toMatchObject({ day: '2024-02-11', partition: '202402' });
      },
      { onStep: watch.onStep },
    );
    expect(watch.overlaps).toEqual([]);
    const { target, expected } = await targetAndSingleLevel(ch, db);
    expect(target).toEqual(expected);
  });

  it('retry-failed starts a backfill of only the failed partitions, and the target ends complete', async () => {
    const db2 = await freshDatabase(ch, 'retry');
    const events = { database: db2, name: 'events' };
    await ch.exec(createDemoEventsTable(events));
    await ch.exec(insertDemoEvents(events, '2024-01-01', 3, 30_000));
    let failFebruaryOnce = true;
    const onStep = async (point: StepPoint, partition: string): Promise<void> => {
      if (point === 'insert:started' && partition === '202402' && failFebruaryOnce) {
        failFebruaryOnce = false;
        throw new JobSpecError('test', 'injected failure of 202402');
      }
    };
    await h.withWorker(
      async () => {
        const started = await cli(
          'start',
          '--job',
          jobFile(exampleJob(db2)),
          '--from',
          '2024-01-15',
          '--to',
          '2024-03-31',
          '--no-wait',
        );
        const id = started.out.match(/^started (\S+)/)?.[1] ?? '';
        await expect(env.client.workflow.getHandle(id).result()).rejects.toThrow();
        const listed = await cli('list', '--target', `${db2}.events_daily`);
        expect(listed.out).toContain(
          `${id}  backfill  FAILED  ${db2}.events_daily  3 partitions 202401…202403  started `,
        );
        const retried = await cli('retry-failed', id);
        expect(retried).toMatchObject({ code: 0, out: `started ${id}-retry for 1 failed partition(s): 202402` });
        const summary = (await env.client.workflow.getHandle(`${id}-retry`).result()) as BackfillSummary;
        expect(summary.partitions.map((p) => p.partition)).toEqual(['202402']);
        // What the Web UI shows for the backfill our CLI started, without opening its input.
        const described = await env.client.workflow.getHandle(id).describe();
        expect(await described.staticSummary()).toBe(`backfill ${db2}.events_daily 2024-01-15 … 2024-03-31`);
        expect((await described.staticDetails())?.split('\n')).toEqual([
          `target: ${db2}.events_daily (from ${db2}.events)`,
          'range: 2024-01-15 … 2024-03-31, 3 month partitions: 202401 202402 202403',
          'job: kind aggregate, events_daily, parallelism 1, validation full',
        ]);
      },
      { onStep },
    );
    const digests = await targetAndSingleLevel(ch, db2);
    expect(digests.target).toEqual(digests.expected);
  });
});
