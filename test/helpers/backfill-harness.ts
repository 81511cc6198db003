import { createHash, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, type Worker } from '@temporalio/worker';
import { parse } from 'yaml';
import type { ActivityDeps } from '../../src/activities';
import type { ClickHouse } from '../../src/clickhouse/clickhouse';
import type { BackfillInputRaw } from '../../src/shared/backfill-input';
import type { JobSpecInput } from '../../src/shared/job-spec';
import { createBackfillWorker, type BackfillWorkerOptions } from '../../src/worker/create-backfill-worker';
import { demoWorkerExtension } from '../../examples/demo/demo-worker';
import { openTestClickHouse } from './chdb-env';
import { createTestTemporal } from './temporal-env';

const root = path.resolve(__dirname, '..', '..');
const bundles = new Map<string, Promise<{ code: string }>>();

/**
 * The product's workflow bundle (src/workflows). Bundling takes seconds, and every test file has a module registry
 * of its own, so the bundle is kept in .data/test under a hash of every file it may hold and of the lockfile: the
 * first file of a run builds it, the others read it, and any change to the sources builds a new one.
 */
export function workflowBundle(): Promise<{ code: string }> {
  return cachedBundle('product', require.resolve('../../src/workflows'), ['src']);
}

/** The demo worker's workflow bundle (examples/demo/workflows: the product's workflows and the demo's), cached alike. */
export function demoWorkflowBundle(): Promise<{ code: string }> {
  return cachedBundle('demo', require.resolve('../../examples/demo/workflows'), ['src', 'examples/demo']);
}

function cachedBundle(name: string, workflowsPath: string, sourceDirs: string[]): Promise<{ code: string }> {
  let bundle = bundles.get(name);
  if (!bundle) {
    bundle = buildOrRead(name, workflowsPath, sourceDirs);
    bundles.set(name, bundle);
  }
  return bundle;
}

async function buildOrRead(name: string, workflowsPath: string, sourceDirs: string[]): Promise<{ code: string }> {
  const dir = path.join(root, '.data', 'test');
  const file = path.join(dir, `workflow-bundle-${name}-${sourceHash(sourceDirs)}.js`);
  if (existsSync(file)) return { code: readFileSync(file, 'utf8') };
  const { code } = await bundleWorkflowCode({ workflowsPath, logger: quietLogger });
  mkdirSync(dir, { recursive: true });
  // Written whole, then renamed: a test file running in parallel never reads half a bundle.
  const partial = `${file}.${process.pid}.partial`;
  writeFileSync(partial, code);
  renameSync(partial, file);
  // Bundles of earlier sources are never read again.
  const earlier = new RegExp(`^workflow-bundle-${name}-\\w+\\.js$`);
  for (const old of readdirSync(dir).filter((f) => earlier.test(f))) {
    if (path.join(dir, old) !== file) rmSync(path.join(dir, old), { force: true });
  }
  return { code };
}

/** A hash of every file under `dirs` (relative to the repository; names and contents) and of package-lock.json. */
function sourceHash(dirs: string[]): string {
  const hash = createHash('sha256');
  const files = dirs
    .flatMap((d) => readdirSync(path.join(root, d), { recursive: true, withFileTypes: true }))
    .filter((f) => f.isFile())
    .map((f) => path.join(f.parentPath, f.name))
    .sort();
  for (const f of [...files, path.join(root, 'package-lock.json')]) {
    hash.update(path.relative(root, f)).update('\0').update(readFileSync(f)).update('\0');
  }
  return hash.digest('hex').slice(0, 16);
}

const quietLogger = {
  log: () => undefined,
  trace: () => undefined,
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};

/** The example job of examples/events-daily.yaml, pointed at tables in `database`. */
export function exampleJob(database: string, overrides: Partial<JobSpecInput> = {}): JobSpecInput {
  const job = parse(readFileSync(path.resolve(__dirname, '../../examples/events-daily.yaml'), 'utf8')) as JobSpecInput;
  return {
    ...job,
    source: { ...job.source, table: `${database}.events` },
    target: { table: `${database}.events_daily` },
    ...overrides,
  } as JobSpecInput;
}

export interface Harness {
  env: TestWorkflowEnvironment;
  ch: ClickHouse;
  taskQueue: string;
  /**
   * Runs `fn` while an in-process worker serves `taskQueue`, telling `onStep` of every step point; its activities
   * use `clickhouse` when given (e.g. a recording wrapper of `ch`). With `demo`, it is the demo's worker
   * (examples/demo/demo-worker.ts), which serves the demo's workflows and activities as well.
   */
  withWorker<T>(
    fn: (worker: Worker) => Promise<T>,
    options?: {
      onStep?: ActivityDeps['onStep'];
      clickhouse?: ClickHouse;
      demo?: boolean;
      slots?: BackfillWorkerOptions['slots'];
      deployment?: BackfillWorkerOptions['deployment'];
    },
  ): Promise<T>;
  /** Starts `backfillWorkflow` and waits for its result, with a worker running. */
  backfill(input: BackfillInputRaw, workflowId?: string): Promise<unknown>;
  /** Runs one worker for the rest of the file (e.g. for CLI tests), until `close()`. */
  serve(options?: { onStep?: ActivityDeps['onStep'] }): void;
  /** Stops the worker `serve` started, if any, then the server and the engine. */
  close(): Promise<void>;
}

/**
 * A real Temporal dev server and the embedded engine, for workflow and integration tests; with `uiPort`, the
 * server's Web UI on that port.
 */
export async function createHarness(extraServerArgs: string[] = [], uiPort?: number): Promise<Harness> {
  const env = await createTestTemporal(extraServerArgs, uiPort);
  const ch = openTestClickHouse();
  const taskQueue = `test-${randomUUID()}`;
  const withWorker: Harness['withWorker'] = async (fn, options = {}) => {
    const worker = await createBackfillWorker({
      connection: env.nativeConnection,
      namespace: env.namespace ?? 'default',
      taskQueue,
      clickhouse: options.clickhouse ?? ch,
      log: { info: () => undefined, warn: () => undefined },
      onStep: options.onStep,
      slots: options.slots,
      deployment: options.deployment,
      ...(options.demo
        ? { workflowBundle: await demoWorkflowBundle(), extension: demoWorkerExtension }
        : { workflowBundle: await workflowBundle() }),
    });
    return worker.runUntil(fn(worker));
  };
  let stopServing: (() => Promise<unknown>) | undefined;
  return {
    env,
    ch,
    taskQueue,
    withWorker,
    backfill: (input, workflowId = `backfill-${randomUUID()}`) =>
      withWorker(() => env.client.workflow.execute('backfillWorkflow', { taskQueue, workflowId, args: [input] })),
    serve: (options) => {
      let stop = (): void => undefined;
      const stopped = new Promise<void>((resolve) => (stop = resolve));
      const serving = withWorker(() => stopped, options);
      stopServing = () => {
        stop();
        return serving;
      };
    },
    close: async () => {
      await stopServing?.();
      await env.teardown();
      await ch.close();
    },
  };
}
