import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import { Context } from '@temporalio/activity';
import { WorkflowFailedError } from '@temporalio/client';
import { CancelledFailure } from '@temporalio/common';
import type { ClickHouse } from '../../src/clickhouse/clickhouse';
import type { StepPoint } from '../../src/activities';
import { pauseSignal, progressQuery, resumeSignal, setParallelismUpdate } from '../../src/shared/messages';
import { createDemoEventsTable, insertDemoEvents } from '../../examples/demo/sql/demo-events';
import { findTemporalCli } from '../../src/temporal/temporal-cli-path';
import { createHarness, exampleJob, type Harness } from '../helpers/backfill-harness';
import { freshDatabase } from '../helpers/chdb-env';
import { progressUntil } from '../helpers/progress-until';
import { runCliCaptured } from '../helpers/run-cli-captured';
import { targetAndSingleLevel } from '../helpers/target-digest';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { statementOf } from '../helpers/statement-of';

const run = promisify(execFile);

/**
 * A gate in the worker's `insert:started` point: while closed, inserts of the named partitions wait there
 * (until opened, or until their activity is cancelled).
 */
class InsertGate {
  private readonly closed = new Set<string>();
  private open: (() => void)[] = [];
  readonly started: string[] = [];

  close(partition: string): void {
    this.closed.add(partition);
  }

  release(): void {
    this.closed.clear();
    this.open.splice(0).forEach((f) => f());
  }

  onStep = async (point: StepPoint, partition: string): Promise<void> => {
    if (point !== 'insert:started') return;
    this.started.push(partition);
    if (!this.closed.has(partition)) return;
    const signal = Context.current().cancellationSignal;
    await new Promise<void>((resolve) => {
      if (signal.aborted) return resolve();
      this.open.push(resolve);
      signal.addEventListener('abort', () => resolve());
    });
  };
}

/*
 * A running insert learns that it was cancelled (pause --now, cancel) from the reply to its next heartbeat, and the
 * SDK sends heartbeats 0.8 heartbeat timeouts apart: with 5 s instead of the default 20 s, within 4 s instead of 16.
 */
const safety = { heartbeatTimeoutSeconds: 5 };

describe('operating a running backfill', () => {
  let h: Harness;
  let env: TestWorkflowEnvironment;
  let ch: ClickHouse;
  let db: string;
  const gate = new InsertGate();

  const withWorker = <T>(fn: () => Promise<T>): Promise<T> => h.withWorker(fn, { onStep: gate.onStep });
  const start = (database: string, extra: Record<string, unknown> = {}) =>
    env.client.workflow.start('backfillWorkflow', {
      taskQueue: h.taskQueue,
      workflowId: `backfill-${randomUUID()}`,
      args: [
        { job: exampleJob(database, { chunkSize: 2_000, safety }), from: '2024-01-01', to: '2024-03-31', ...extra },
      ],
    });
  const temporal = (...args: string[]) =>
    run(findTemporalCli(), [...args, '--address', env.address, '--namespace', env.namespace ?? 'default']);

  beforeAll(async () => {
    h = await createHarness();
    ({ env, ch } = h);
    db = await freshDatabase(ch, 'operate');
    const events = { database: db, name: 'events' };
    await ch.exec(createDemoEventsTable(events));
    await ch.exec(insertDemoEvents(events, '2024-01-01', 3, 60_000));
  });
  afterAll(() => h?.close());
  afterEach(() => gate.release());

  it('a pause sent with the Temporal CLI holds every new step until resume, then the target is complete', async () => {
    gate.close('202401');
    await withWorker(async () => {
      const handle = await start(db);
      await progressUntil(handle, (p) => p.partitions[0]?.step === 'insert', 'the first insert running');
      await temporal(
        'workflow',
        'signal',
        '--workflow-id',
        handle.workflowId,
        '--name',
        'pause',
        '--input',
        '{"reason":"merges"}',
      );
      await progressUntil(handle, (p) => p.pause?.manual === 'merges', 'the pause received');
      gate.release();
      const paused = await progressUntil(handle, (p) => p.partitions[0].step === 'paused', 'the partition paused');
      expect(paused.phase).toBe('paused');
      expect(paused.partitions.map((p) => p.state)).toEqual(['running', 'pending', 'pending']);

      const { stdout } = await temporal('workflow', 'query', '--workflow-id', handle.workflowId, '--name', 'progress');
      expect(stdout).toContain('"pause":{"manual":"merges"');
      // Still held: nothing moved while paused.
      const later = await handle.query(progressQuery);
      expect(later.partitions.map((p) => [p.state, p.step])).toEqual([
        ['running', 'paused'],
        ['pending', undefined],
        ['pending', undefined],
      ]);

      expect(await handle.executeUpdate(setParallelismUpdate, { args: [2] })).toBe(1);
      expect((await handle.query(progressQuery)).parallelism).toBe(2);

      await handle.signal(resumeSignal);
      await handle.result();
      const done = await handle.query(progressQuery);
      expect(done.phase).toBe('completed');
      expect(done.partitions.map((p) => p.state)).toEqual(['swapped', 'swapped', 'swapped']);
      expect(done.done).toBe(3);
      expect(done.rowsRead).toBe(60_000);
    });
    const { target, expected } = await targetAndSingleLevel(ch, db);
    expect(target).toEqual(expected);
  });

  it('pause --now cancels the running insert, which is redone after resume without losing or doubling rows', async () => {
    const db2 = await freshDatabase(ch, 'operate_now');
    const events = { database: db2, name: 'events' };
    await ch.exec(createDemoEventsTable(events));
    await ch.exec(insertDemoEvents(events, '2024-01-01', 3, 60_000));
    gate.started.length = 0;
    gate.close('202402');
    await withWorker(async () => {
      const handle = await start(db2);
      await progressUntil(handle, (p) => p.partitions[1]?.step === 'insert', 'the second insert running');
      await handle.signal(pauseSignal, { reason: 'maintenance', now: true });
      const paused = await progressUntil(handle, (p) => p.partitions[1].step === 'paused', 'the insert interrupted');
      expect(paused.partitions.map((p) => p.state)).toEqual(['swapped', 'running', 'pending']);
      expect(paused.pause?.manual).toBe('maintenance');

      gate.release();
      await handle.signal(resumeSignal);
      await handle.result();
    });
    expect(gate.started.filter((p) => p === '202402')).toHaveLength(2);
    const { target, expected } = await targetAndSingleLevel(ch, db2);
    expect(target).toEqual(expected);
  });

  it('cancel stops the running partition, drops every shadow and reports which partitions were swapped in', async () => {
    const db3 = await freshDatabase(ch, 'operate_cancel');
    const events = { database: db3, name: 'events' };
    await ch.exec(createDemoEventsTable(events));
    await ch.exec(insertDemoEvents(events, '2024-01-01', 3, 60_000));
    gate.close('202402');
    await withWorker(async () => {
      const handle = await start(db3);
      await progressUntil(handle, (p) => p.partitions[1]?.step === 'insert', 'the second insert running');
      await handle.cancel();
      const failure = await handle.result().catch((err: unknown) => err);
      expect(failure).toBeInstanceOf(WorkflowFailedError);
      expect((failure as WorkflowFailedError).cause).toBeInstanceOf(CancelledFailure);

      const after = await handle.query(progressQuery);
      expect(after.phase).toBe('cancelled');
      expect(after.partitions.map((p) => p.state)).toEqual(['swapped', 'cancelled', 'pending']);
    });
    const shadows = await ch.rows({
      query: "SELECT name FROM system.tables WHERE database = {db:String} AND name LIKE '%\\_v2\\_%'",
      params: { db: db3 },
    });
    expect(shadows).toEqual([]);
    const live = await ch.rows(
      statementOf<{ p: string }>({
        query: `SELECT DISTINCT _partition_id AS p FROM ${db3}.events_daily ORDER BY p`,
        params: {},
      }),
    );
    expect(live.map((r) => r.p)).toEqual(['202401']);
  });
  it('status --watch follows a running backfill line by line and ends, with the grid, when it completes', async () => {
    const db5 = await freshDatabase(ch, 'operate_watch');
    const events = { database: db5, name: 'events' };
    await ch.exec(createDemoEventsTable(events));
    await ch.exec(insertDemoEvents(events, '2024-01-01', 3, 30_000));
    gate.close('202402');
    const watched = await withWorker(async () => {
      const handle = await start(db5);
      const watching = runCliCaptured({ TEMPORAL_ADDRESS: env.address }, 'status', handle.workflowId, '--watch');
      await progressUntil(handle, (p) => p.partitions[1]?.step === 'insert', 'the second insert running');
      // The watcher's output is only seen when it returns: hold the insert long enough for it to connect and poll.
      await new Promise((r) => setTimeout(r, 3_000));
      gate.release();
      return watching;
    });
    expect(watched.code).toBe(0);
    const lines = watched.out.split('\n');
    expect(lines.some((l) => l.startsWith('running | 202402 insert'))).toBe(true);
    // It ended with the backfill: the grid (one row for 2024, three swapped months), then the final status.
    const grid = lines.findIndex((l) => l === '2024 sss');
    expect(grid).toBeGreaterThan(0);
    expect(lines[grid + 1]).toBe('s swapped');
    expect(lines[grid + 2]).toMatch(/: completed$/);
  });

  it('our CLI pauses, shows status, resumes and cancels; an unknown id is one error line and exit code 1', async () => {
    const db4 = await freshDatabase(ch, 'operate_cli');
    const events = { database: db4, name: 'events' };
    await ch.exec(createDemoEventsTable(events));
    await ch.exec(insertDemoEvents(events, '2024-01-01', 3, 60_000));
    const cli = (...args: string[]) => runCliCaptured({ TEMPORAL_ADDRESS: env.address }, ...args);
    gate.close('202401');
    await withWorker(async () => {
      const handle = await start(db4);
      const id = handle.workflowId;
      await progressUntil(handle, (p) => p.partitions[0]?.step === 'insert', 'the first insert running');
      expect((await cli('pause', id, '--reason', 'merges')).code).toBe(0);
      gate.release();
      await progressUntil(handle, (p) => p.partitions[0].step === 'paused', 'the partition paused');
      const status = await cli('status', id);
      expect(status.out).toContain('paused (by operator: merges)');
      expect(status.out).toContain('202401  running (paused)');
      // The grid above: one row for 2024, January running, the later months pending (no terminal: letters).
      expect(status.out.split('\n').slice(0, 2)).toEqual([
        expect.stringMatching(/^2024 r\.+$/),
        '. pending  r running',
      ]);

      gate.close('202403');
      expect((await cli('resume', id)).code).toBe(0);
      await progressUntil(handle, (p) => p.partitions[2].step === 'insert', 'the third insert running');
      const cancelled = await cli('cancel', id);
      expect(cancelled.code).toBe(0);
      expect(cancelled.out).toContain('swapped in (kept): 202401, 202402');
      expect(cancelled.out).toContain('stopped before the swap: 202403');
    });

    const missing = await cli('status', 'no-such-backfill');
    expect(missing.code).toBe(1);
    expect(missing.err).toBe('ch-backfill: no backfill with workflow id no-such-backfill');
  });
});
