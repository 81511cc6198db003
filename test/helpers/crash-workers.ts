import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { openSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { ClickHouse } from '../../src/clickhouse/clickhouse';
import { openEmbeddedClickHouse } from '../../src/clickhouse/connect';

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
 * serving one task queue on one data directory.
 */
export class CrashWorkers {
  private readonly running = new Set<ChildProcess>();

  constructor(
    private readonly dirs: ReturnType<typeof crashRunDirs>,
    private readonly taskQueue: string,
  ) {}

  start(temporalAddress: string, name: string, crash?: { at: string; marker: string }): WorkerProcess {
    const logFile = path.join(this.dirs.runDir, `${name}.log`);
    const stepLog = path.join(this.dirs.runDir, `${name}.steps`);
    writeFileSync(stepLog, '');
    const output = openSync(logFile, 'w');
    // Node itself (tsx only as a loader), so the process the test spawns is the worker that gets killed.
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(root, 'test', 'fixtures', 'crash-worker.ts')], {
      cwd: root,
      stdio: ['ignore', output, output],
      env: {
        ...process.env,
        TEMPORAL_ADDRESS: temporalAddress,
        TEMPORAL_TASK_QUEUE: this.taskQueue,
        CLICKHOUSE_DATA_DIR: this.dirs.dataDir,
        WORKFLOW_BUNDLE: this.dirs.bundleFile,
        STEP_LOG: stepLog,
        CRASH_AT: crash?.at ?? '',
        CRASH_MARKER: crash?.marker ?? '',
      },
    });
    this.running.add(child);
    const exited = once(child, 'exit').then(([code, signal]) => {
      this.running.delete(child);
      return { code: code as number | null, signal: signal as NodeJS.Signals | null };
    });
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

  /** Kills every worker still running. */
  killAll(): void {
    for (const child of this.running) child.kill('SIGKILL');
  }

  /** True when no worker process is left (the run directory may then be removed). */
  get idle(): boolean {
    return this.running.size === 0;
  }
}
