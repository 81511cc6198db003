import { randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { Client, Connection } from '@temporalio/client';
import { bundleWorkflowCode, DefaultLogger } from '@temporalio/worker';
import { parse } from 'yaml';
import type { BackfillSummary, TableRef } from '../src/shared/backfill-results';
import { aggregateJobSchema, type AggregateJob, type InsertSettings } from '../src/shared/job-spec';
import { partitionsCovering } from '../src/shared/partitions';
import { startDevServer } from '../src/temporal/dev-server';
import { forkChild } from './child-process';
import { historyTimings } from './history-timings';
import { runNullEngineBench } from './null-engine-fill';
import type {
  ClickHouseTask,
  PeakRss,
  ProbeResult,
  RawInsertResult,
  SeedResult,
  TaskReply,
  VerifyResult,
  WorkerCommand,
  WorkerReply,
} from './messages';
import { renderReport, reportJson, type TemporalRun } from './report';

const ROWS = Number(process.env.BENCH_ROWS ?? 10_000_000);
/** Rows of the PyPI-like table of the Null-engine comparison; 0 skips it. */
const PYPI_ROWS = Number(process.env.BENCH_PYPI_ROWS ?? 20_000_000);
const VERBOSE = process.env.BENCH_VERBOSE === '1';
const START = '2024-01-01';
const MONTHS = 6;
const FROM = '2024-01-01';
const TO = '2024-06-30';
const DB = 'bench';

const ROOT = path.resolve(__dirname, '..', '.data', 'bench');
const CHDB_DIR = path.join(ROOT, 'chdb');
const BUNDLE_FILE = path.join(ROOT, 'workflow-bundle.js');

/** The low-memory settings of the ClickHouse backfilling guide. */
const LOW_MEMORY: InsertSettings = { max_threads: 1, max_insert_threads: 1, min_insert_block_size_bytes: 10_485_760 };

const table = (name: string): TableRef => ({ database: DB, name });
const log = (message: string): void => console.error(`[bench] ${message}`);

/**
 * examples/events-daily.yaml on the bench's tables, with fast validation, the given insert settings and the
 * spec's default chunk size (the example's small one exists to show salts on small demo data; here it would
 * make (a) a two-level aggregation against (b)'s single level, measuring salting rather than the tool).
 */
function benchJob(target: string, insertSettings?: InsertSettings): AggregateJob {
  const example = parse(readFileSync(path.resolve(__dirname, '..', 'examples', 'events-daily.yaml'), 'utf8'));
  const job = aggregateJobSchema.parse({
    ...example,
    source: { ...example.source, table: `${DB}.events` },
    target: { table: `${DB}.${target}` },
    validation: { ...example.validation, mode: 'fast' },
    chunkSize: undefined,
  });
  return insertSettings ? { ...job, insertSettings } : job;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen({ host: '127.0.0.1', port: 0 }, () => {
      const { port } = probe.address() as net.AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

const chdbEnv = { CLICKHOUSE_DATA_DIR: CHDB_DIR, CLICKHOUSE_URL: '' };

/** Runs one ClickHouse task in a child process of its own (the only process holding the data directory). */
async function clickhouseTask<T>(task: ClickHouseTask): Promise<{ result: T } & PeakRss> {
  const child = forkChild<TaskReply, ClickHouseTask>('clickhouse-task.ts', chdbEnv, VERBOSE);
  child.send(task);
  const reply = await child.next();
  await child.exited;
  if (!reply.ok) throw new Error(`${task.kind} failed: ${reply.error}`);
  return { result: reply.result as T, peakRssBytes: reply.peakRssBytes };
}

/** One full backfill, served by a fresh worker process so that its peak RSS belongs to this run alone. */
async function temporalRun(client: Client, address: string, label: string, job: AggregateJob): Promise<TemporalRun> {
  const taskQueue = `bench-${randomUUID()}`;
  const worker = forkChild<WorkerReply, WorkerCommand>(
    'worker-process.ts',
    { ...chdbEnv, TEMPORAL_ADDRESS: address, TEMPORAL_TASK_QUEUE: taskQueue, BENCH_WORKFLOW_BUNDLE: BUNDLE_FILE },
    VERBOSE,
  );
  const ready = await worker.next();
  if (ready.kind !== 'ready') throw new Error(`worker did not start: ${JSON.stringify(ready)}`);

  log(`(a) ${label}: backfill ${FROM}..${TO} into ${job.target.table}`);
  const started = performance.now();
  const handle = await client.workflow.start('backfillWorkflow', {
    taskQueue,
    workflowId: `bench-${label}-${randomUUID()}`,
    args: [{ job, from: FROM, to: TO }],
  });
  const summary = (await handle.result()) as BackfillSummary;
  const wallMs = performance.now() - started;
  const history = await historyTimings(client, handle.workflowId);

  worker.send({ kind: 'stop' });
  const stopped = await worker.next();
  await worker.exited;
  if (stopped.kind !== 'stopped') throw new Error(`worker did not stop cleanly: ${JSON.stringify(stopped)}`);
  log(`(a) ${label}: ${(wallMs / 1000).toFixed(2)} s`);
  return {
    label,
    settings: job.insertSettings as Record<string, number>,
    wallMs,
    history,
    summary,
    workerReadyRssBytes: ready.rssBytes,
    workerPeakRssBytes: stopped.peakRssBytes,
  };
}

/**
 * `npm run bench`: on one fresh embedded engine with `BENCH_ROWS` (default 10 M) skewed demo events over six
 * months, times (a) the backfill of examples/events-daily.yaml through Temporal with fast validation, with the
 * job's insert settings and with low-memory ones, against (b) one raw INSERT … SELECT … GROUP BY over the whole
 * range with the job's settings. Prints a table and a final JSON line; reports targets, never fails on them.
 */
async function main(): Promise<void> {
  if (!Number.isInteger(ROWS) || ROWS < MONTHS) throw new Error(`BENCH_ROWS must be an integer ≥ ${MONTHS}`);
  if (!Number.isInteger(PYPI_ROWS) || PYPI_ROWS < 0) throw new Error('BENCH_PYPI_ROWS must be an integer ≥ 0');
  rmSync(ROOT, { recursive: true, force: true });
  mkdirSync(ROOT, { recursive: true });

  log(
    PYPI_ROWS > 0
      ? `Null-engine fill on ${PYPI_ROWS.toLocaleString('en-US')} PyPI-like rows`
      : 'Null-engine fill skipped',
  );
  const nullEngine =
    PYPI_ROWS > 0 ? await runNullEngineBench(path.join(ROOT, 'pypi-chdb'), PYPI_ROWS, VERBOSE) : undefined;
  const source = table('events');
  const job = benchJob('events_daily');
  const partitions = partitionsCovering(FROM, TO, job.partitionBy);

  log(`seeding ${ROWS.toLocaleString('en-US')} rows over ${MONTHS} months into ${CHDB_DIR}`);
  const { result: seed } = await clickhouseTask<SeedResult>({
    kind: 'seed',
    source,
    start: START,
    months: MONTHS,
    rows: ROWS,
  });
  log(`seeded ${seed.rows.toLocaleString('en-US')} rows in ${(seed.ms / 1000).toFixed(1)} s`);

  const { code } = await bundleWorkflowCode({
    workflowsPath: require.resolve('../src/workflows'),
    logger: new DefaultLogger('WARN'),
  });
  writeFileSync(BUNDLE_FILE, code);

  const server = await startDevServer({
    dbFile: path.join(ROOT, 'temporal.db'),
    port: await freePort(),
    uiPort: await freePort(),
    log: VERBOSE ? log : undefined,
  });
  const connection = await Connection.connect({ address: server.address });
  try {
    const client = new Client({ connection });
    const runs: TemporalRun[] = [];
    runs.push(await temporalRun(client, server.address, 'default', job));

    log('(b) raw INSERT … SELECT … GROUP BY over the whole range');
    const whole = { start: partitions[0].start, end: partitions[partitions.length - 1].end };
    const { result: raw, peakRssBytes: rawPeakRssBytes } = await clickhouseTask<RawInsertResult>({
      kind: 'raw-insert',
      job,
      source,
      into: table('events_daily_raw'),
      range: whole,
    });
    log(`(b): ${(raw.insertMs / 1000).toFixed(2)} s`);

    runs.push(await temporalRun(client, server.address, 'low-memory', benchJob('events_daily_lowmem', LOW_MEMORY)));

    log('timing the queries outside the INSERT one by one, and comparing the targets');
    const salts = new Map(runs[0].summary.partitions.map((p) => [p.partition, p.salt]));
    const { result: probe } = await clickhouseTask<ProbeResult>({
      kind: 'probe',
      job,
      source,
      target: table('events_daily'),
      scratch: table('events_daily_probe'),
      partitions: partitions.map((p) => ({ ...p, salt: salts.get(p.id) ?? 1 })),
    });
    const { result: verified } = await clickhouseTask<VerifyResult>({
      kind: 'verify',
      job,
      tables: ['events_daily', 'events_daily_raw', 'events_daily_lowmem'].map(table),
      partitions: partitions.map((p) => p.id),
    });

    const results = {
      sourceRows: seed.rows,
      seedMs: seed.ms,
      runs,
      raw: { ...raw, settings: job.insertSettings as Record<string, number>, peakRssBytes: rawPeakRssBytes },
      probe,
      mismatches: verified.mismatches,
      nullEngine,
    };
    console.log(renderReport(results));
    console.log(JSON.stringify(reportJson(results)));
  } finally {
    await connection.close();
    await server.stop();
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err instanceof Error ? (err.stack ?? err.message) : err);
    process.exit(1);
  },
);
