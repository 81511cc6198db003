import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { mkdirSync, openSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Client, WorkflowHandle } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { ClickHouse } from '../../src/clickhouse/clickhouse';
import { openEmbeddedClickHouse } from '../../src/clickhouse/connect';
import { workflowBundle } from './backfill-harness';
import { createTestTemporal } from './temporal-env';
import { statementOf } from './statement-of';

const root = path.resolve(__dirname, '..', '..');

/**
 * The files of one crash-test file: a run directory of its own under .data/test, its chDB data directory (chDB
 * lets one process at a time use it, so the test opens it only while no worker runs) and the pre-bundled workflow
 * code every worker process loads.
 */
export function crashRunDirs(prefix: string) {
  const runDir = path.join(root, '.data', 'test', `${prefix}-${process.env.JEST_WORKER_ID ?? '0'}-${process.pid}`);
  return { runDir, dataDir: path.join(runDir, 'chdb'), bundleFile: path.join(runDir, 'workflow-bundle.js') };
}

/** Runs `fn` with the embedded engine on `dataDir`, closing it afterwards (no worker may run meanwhile). */
export async function withClickHouse<T>(dataDir: string, fn: (ch: ClickHouse) => Promise<T>): Promise<T> {
  const ch = openEmbeddedClickHouse(dataDir);
  try {
    return await fn(ch);
  } finally {
    await ch.close();
  }
}

export interface WorkerProcess {
  child: ChildProcess;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Every step point this process reached, `<point> <partition>`, in order. */
  steps(): string[];
  /** The last lines of its output, for failure messages. */
  logTail(): string;
}

/**
 * Worker processes of test/fixtures/crash-worker.ts, each of which may kill itself with SIGKILL at one step point,
 * serving one task queue on one data directory. One process is always started ahead: it loads its modules and the
 * workflow code (a second or two) while the test still runs, and a start only hands it its settings.
 */
export class CrashWorkers {
  private readonly running = new Set<ChildProcess>();
  private spare: { child: ChildProcess; logFile: string; address: string } | undefined;
  private spares = 0;

  constructor(
    private readonly dirs: ReturnType<typeof crashRunDirs>,
    private readonly taskQueue: string,
  ) {}

  /** A worker process that waits for its settings on stdin (see test/fixtures/crash-worker.ts). */
  private startSpare(temporalAddress: string): NonNullable<CrashWorkers['spare']> {
    const logFile = path.join(this.dirs.runDir, `spare-${++this.spares}.log`);
    const output = openSync(logFile, 'w');
    // Node itself (tsx only as a loader), so the process the test spawns is the worker that gets killed.
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(root, 'test', 'fixtures', 'crash-worker.ts')], {
      cwd: root,
      stdio: ['pipe', output, output],
      env: {
        ...process.env,
        TEMPORAL_ADDRESS: temporalAddress,
        TEMPORAL_TASK_QUEUE: this.taskQueue,
        CLICKHOUSE_DATA_DIR: this.dirs.dataDir,
        WORKFLOW_BUNDLE: this.dirs.bundleFile,
      },
    });
    this.running.add(child);
    child.once('exit', () => this.running.delete(child));
    return { child, logFile, address: temporalAddress };
  }

  /** Starts the spare for `temporalAddress` now, so that even the first start finds it ready. */
  prepare(temporalAddress: string): void {
    this.spare ??= this.startSpare(temporalAddress);
  }

  start(temporalAddress: string, name: string, crash?: { at: string; marker: string }): WorkerProcess {
    const logFile = path.join(this.dirs.runDir, `${name}.log`);
    const stepLog = path.join(this.dirs.runDir, `${name}.steps`);
    writeFileSync(stepLog, '');
    const spare = this.spare?.address === temporalAddress ? this.spare : this.startSpare(temporalAddress);
    this.spare = this.startSpare(temporalAddress);
    const { child } = spare;
    renameSync(spare.logFile, logFile);
    child.stdin?.end(JSON.stringify({ stepLog, crashAt: crash?.at ?? '', marker: crash?.marker ?? '' }));
    const exited = (
      child.exitCode !== null || child.signalCode !== null
        ? Promise.resolve([child.exitCode, child.signalCode])
        : once(child, 'exit')
    ).then(([code, signal]) => ({ code: code as number | null, signal: signal as NodeJS.Signals | null }));
    return {
      child,
      exited,
      steps: () => readFileSync(stepLog, 'utf8').split('\n').filter(Boolean),
      logTail: () => readFileSync(logFile, 'utf8').split('\n').slice(-20).join('\n'),
    };
  }

  /** Stops a worker gracefully (SIGKILL after 30 s) and waits for it to exit. */
  async stop(worker: WorkerProcess): Promise<void> {
    worker.child.kill('SIGTERM');
    const fallback = setTimeout(() => worker.child.kill('SIGKILL'), 30_000);
    await worker.exited;
    clearTimeout(fallback);
  }

  /** Kills every worker still running, the spare too, and waits until they have exited. */
  async killAll(): Promise<void> {
    const left = [...this.running];
    for (const child of left) child.kill('SIGKILL');
    await Promise.all(
      left.map((child) => (child.exitCode !== null || child.signalCode !== null ? undefined : once(child, 'exit'))),
    );
  }
}

/**
 * Tables of `db` whose name matches a LIKE `pattern` (by default every shadow and duplicate, `%\_v2\_%`), without
 * their writer tag: `events_daily_v2_202401`.
 */
export async function shadowTables(ch: ClickHouse, db: string, pattern = '%\\_v2\\_%'): Promise<string[]> {
  const rows = await ch.rows(
    statementOf<{ name: string }>({
      query: 'SELECT name FROM system.tables WHERE database = {db:String} AND name LIKE {pattern:String} ORDER BY name',
      params: { db, pattern },
    }),
  );
  return rows.map((r) => r.name.replace(/_[0-9a-f]{8}$/, ''));
}

/**
 * The `safety` of every crash test's job: a step whose worker was killed is retried once its heartbeat is 5 s
 * overdue instead of the default 20 s (the option and the recovery are the same, only sooner).
 */
export const CRASH_SAFETY = { heartbeatTimeoutSeconds: 5 };

/**
 * Tells the server that a killed worker's cache is gone for `workflowId` and each of its running children
 * (ResetStickyTaskQueue, what a worker asks when it evicts a workflow), so that their next workflow tasks go to the
 * task queue at once instead of to the dead worker's sticky queue, where each would wait out its schedule-to-start
 * timeout (10 s).
 */
async function forgetStickyWorker(client: Client, workflowId: string): Promise<void> {
  const { runId, raw } = await client.workflow.getHandle(workflowId).describe();
  await client.workflowService.resetStickyTaskQueue({
    namespace: client.options.namespace,
    execution: { workflowId, runId },
  });
  await Promise.all((raw.pendingChildren ?? []).map((c) => forgetStickyWorker(client, c.workflowId ?? '')));
}

/** A workflow run up to the SIGKILL of its worker: its result (still to come) and the killed worker. */
export interface KilledRun<T> {
  handle: WorkflowHandle;
  result: Promise<T>;
  killed: WorkerProcess;
  /** The file the kill is recorded in (see test/fixtures/crash-worker.ts). */
  marker: string;
}

/**
 * What every SIGKILL test file shares, from {@link useCrashTest}: a run directory of its own with the pre-bundled
 * workflow code, a Temporal dev server (`env`, once the file's `beforeAll` ran), worker processes on a task queue of
 * its own, and the embedded engine opened only while no worker runs.
 */
export class CrashTest {
  readonly dirs: ReturnType<typeof crashRunDirs>;
  readonly taskQueue: string;
  readonly workers: CrashWorkers;
  private server: TestWorkflowEnvironment | undefined;

  constructor(prefix: string) {
    this.dirs = crashRunDirs(prefix);
    this.taskQueue = `${prefix}-${randomUUID()}`;
    this.workers = new CrashWorkers(this.dirs, this.taskQueue);
  }

  get env(): TestWorkflowEnvironment {
    if (!this.server) throw new Error('the crash test has no server before its beforeAll');
    return this.server;
  }

  /** Runs `fn` with the embedded engine on this file's data directory (no worker may run meanwhile). */
  withClickHouse<T>(fn: (ch: ClickHouse) => Promise<T>): Promise<T> {
    return withClickHouse(this.dirs.dataDir, fn);
  }

  /** A fresh run directory with the workflow bundle, `db` created and `seed` run in it, and the server. */
  async setUp(db: string, seed: (ch: ClickHouse) => Promise<void>): Promise<void> {
    rmSync(this.dirs.runDir, { recursive: true, force: true });
    mkdirSync(this.dirs.runDir, { recursive: true });
    writeFileSync(this.dirs.bundleFile, (await workflowBundle()).code);
    // The server, and then the first worker's spare, start while the seed runs.
    const server = createTestTemporal();
    void server.then(
      (env) => this.workers.prepare(env.address),
      () => undefined,
    );
    try {
      await this.withClickHouse(async (ch) => {
        await ch.exec({ query: 'CREATE DATABASE {db:Identifier}', params: { db } });
        await seed(ch);
      });
    } finally {
      this.server = await server;
    }
  }

  /** Kills every worker left (the spare too) and waits for them, tears the server down, removes the run directory. */
  async tearDown(): Promise<void> {
    await this.workers.killAll();
    await this.server?.teardown();
    rmSync(this.dirs.runDir, { recursive: true, force: true });
  }

  /**
   * Starts a worker (`<name>-killed`) that kills itself at `at` (`<point>` or `<point>@<partition>`), then the
   * workflow (`start`, which may also signal it), and waits until that worker is dead. Throws, with the worker's
   * last lines, when the workflow ended first or the worker exited otherwise than by SIGKILL. The server is then told
   * that the dead worker caches none of the run's workflows (see {@link forgetStickyWorker}).
   */
  async runUntilKilled<T>(
    name: string,
    at: string,
    start: (client: TestWorkflowEnvironment['client'], taskQueue: string) => Promise<WorkflowHandle>,
  ): Promise<KilledRun<T>> {
    const marker = path.join(this.dirs.runDir, `${name}.fired`);
    const killed = this.workers.start(this.env.address, `${name}-killed`, { at, marker });
    const handle = await start(this.env.client, this.taskQueue);
    const result = handle.result() as Promise<T>;
    const first = await Promise.race([
      killed.exited,
      result.then(
        () => 'completed',
        () => 'failed',
      ),
    ]);
    if (typeof first === 'string') {
      await this.workers.stop(killed);
      throw new Error(`the workflow ${first} before the worker was killed at ${at}:\n${killed.logTail()}`);
    }
    if (first.signal !== 'SIGKILL') {
      throw new Error(`the worker exited with ${JSON.stringify(first)}, not by SIGKILL:\n${killed.logTail()}`);
    }
    await forgetStickyWorker(this.env.client, handle.workflowId);
    return { handle, result, killed, marker };
  }

  /**
   * Starts a worker (`<name>-killed`), then the workflow (`start`), waits until `until` resolves (e.g. once the
   * workflow's progress says it waits for an operator, where no step point is), and kills that worker with SIGKILL.
   * The server is then told that the dead worker caches none of the run's workflows.
   */
  async killWhen<T>(
    name: string,
    start: (client: TestWorkflowEnvironment['client'], taskQueue: string) => Promise<WorkflowHandle>,
    until: (handle: WorkflowHandle) => Promise<void>,
  ): Promise<KilledRun<T>> {
    const killed = this.workers.start(this.env.address, `${name}-killed`);
    const handle = await start(this.env.client, this.taskQueue);
    const result = handle.result() as Promise<T>;
    // Awaited by `recover`; a failure before then is its to report.
    result.catch(() => undefined);
    await until(handle);
    const marker = path.join(this.dirs.runDir, `${name}.fired`);
    writeFileSync(marker, JSON.stringify({ point: 'killed by the test', pid: killed.child.pid }));
    killed.child.kill('SIGKILL');
    await killed.exited;
    await forgetStickyWorker(this.env.client, handle.workflowId);
    return { handle, result, killed, marker };
  }

  /**
   * A fresh worker (`<name>-recovered`) finishes the run: returns the workflow's result and that worker, stopped (its
   * steps stay readable). `then`, when given, acts on the run once that worker runs (e.g. an operator's command).
   * Throws, with the worker's last lines, when the workflow fails.
   */
  async recover<T>(
    name: string,
    run: KilledRun<T>,
    then?: (handle: WorkflowHandle) => Promise<unknown>,
  ): Promise<{ summary: T; recovered: WorkerProcess }> {
    const recovered = this.workers.start(this.env.address, `${name}-recovered`);
    try {
      await then?.(run.handle);
      return { summary: await run.result, recovered };
    } catch (err) {
      throw new Error(`the workflow failed after the restart: ${String(err)}\n${recovered.logTail()}`);
    } finally {
      await this.workers.stop(recovered);
    }
  }
}

/**
 * The shared set-up of a SIGKILL test file, installed as its `beforeAll`/`afterAll`: {@link CrashTest.setUp} with
 * `db` and `seed`, and {@link CrashTest.tearDown}. Call it at the top of the file's `describe`.
 */
export function useCrashTest(prefix: string, db: string, seed: (ch: ClickHouse) => Promise<void>): CrashTest {
  const crash = new CrashTest(prefix);
  beforeAll(() => crash.setUp(db, seed));
  afterAll(() => crash.tearDown());
  return crash;
}
