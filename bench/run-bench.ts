import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { Client, Connection } from '@temporalio/client';
import { bundleWorkflowCode, DefaultLogger } from '@temporalio/worker';
import { parse } from 'yaml';
import type { BackfillSummary } from '../src/shared/backfill-results';
import { aggregateJobSchema, type AggregateJob, type InsertSettings } from '../src/shared/job-spec';
import { partitionsCovering } from '../src/shared/partitions';
import { startDevServer } from '../src/temporal/dev-server';
import { startBenchWorker } from './bench-worker';
import { forkChild } from './child-process';
import { historyTimings } from './history-timings';
import { insertProfiles } from './insert-profiles';
import { measureWorkerStart } from './worker-start';
import { runManyPartitions } from './many-partitions';
import { runNullEngineBench } from './null-engine-fill';
import { runViewBackfillBench } from './view-backfill-bench';
import type { ImportFilesBench } from './import-files-bench';
import type {
  ClickHouseTask,
  InsertMemoryResult,
  PeakRss,
  ProbeResult,
  PypiInsertResult,
  RawInsertResult,
  SeedResult,
  TaskReply,
  VerifyResult,
} from './messages';
import { growthPoint, renderReport, reportJson, type BenchResults, type GrowthPoint, type TemporalRun } from './report';
import type { TableRef } from '../src/shared/table-ref';

const ROWS = Number(process.env.BENCH_ROWS ?? 10_000_000);
/** Rows of the PyPI-like table of the Null-engine comparison; 0 skips it. */
const PYPI_ROWS = Number(process.env.BENCH_PYPI_ROWS ?? 20_000_000);
/** Rows of the import-from-files comparison (issue 19; `BENCH_IMPORT_FILES` files, default 20); 0 skips it. */
const IMPORT_ROWS = Number(process.env.BENCH_IMPORT_ROWS ?? 5_000_000);
/** The many-partitions scenario's size: 1 is ten years of days (3,650 partitions), 0.1 one year; 0 skips it. */
const SCALE = Number(process.env.BENCH_SCALE ?? 1);
/** Partitions at once in the many-partitions scenario. */
const MANY_PARALLELISM = Number(process.env.BENCH_MANY_PARALLELISM ?? 8);
/** Source rows per day in the many-partitions scenario ("a few hundred"). */
const ROWS_PER_DAY = 300;
const MANY_TO = '2024-12-28';
const VERBOSE = process.env.BENCH_VERBOSE === '1';
/** The PyPI-like rows' time range (the guide's checkpoint as its end), as the Null-engine comparison uses it. */
const PYPI_RANGE = { start: '2024-10-01 00:00:00', end: '2024-12-17 09:00:00' };
const START = '2024-01-01';
const MONTHS = 6;
const FROM = '2024-01-01';
const TO = '2024-06-30';
const DB = 'bench';

const ROOT = path.resolve(__dirname, '..', '.data', 'bench');
/** Outside ROOT (which each run clears): each row count's last results, for the cost-growth comparison. */
const HISTORY_DIR = path.resolve(__dirname, '..', '.data', 'bench-results');
const CHDB_DIR = path.join(ROOT, 'chdb');
const BUNDLE_FILE = path.join(ROOT, 'workflow-bundle.js');

/**
 * The job's low-memory settings: examples/events-daily-low-memory.yaml (the guide's one thread and small insert
 * blocks, plus an external GROUP BY: the guide's settings alone leave an aggregation's hash table, which holds every
 * key and date of the partition, as large as before; spilling it to disk bounds it).
 */
const LOW_MEMORY: InsertSettings = insertProfiles().lowMemory.settings;

const table = (name: string): TableRef => ({ database: DB, name });
const log = (message: string): void => console.error(`[bench] ${message}`);

/**
 * examples/events-daily.yaml on the bench's tables, with fast validation, the given insert settings and the
 * spec's default chunk size (the example's small one exists to show salts on small demo data; here it would
 * make (a) a two-level aggregation against (b)'s single level, measuring salting rather than the tool).
 */
function benchJob(
  target: string,
  insertSettings?: InsertSettings,
  overrides: Record<string, unknown> = {},
): AggregateJob {
  const example = parse(readFileSync(path.resolve(__dirname, '..', 'examples', 'events-daily.yaml'), 'utf8'));
  const job = aggregateJobSchema.parse({
    ...example,
    source: { ...example.source, table: `${DB}.events` },
    target: { table: `${DB}.${target}` },
    validation: { ...example.validation, mode: 'fast' },
    chunkSize: undefined,
    ...overrides,
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
  const worker = await startBenchWorker(workerEnv(address), VERBOSE, client);
  log(`(a) ${label}: backfill ${FROM}..${TO} into ${job.target.table}`);
  const started = performance.now();
  const handle = await client.workflow.start('backfillWorkflow', {
    taskQueue: worker.taskQueue,
    workflowId: `bench-${label}-${randomUUID()}`,
    args: [{ job, from: FROM, to: TO }],
  });
  const summary = (await handle.result()) as BackfillSummary;
  const wallMs = performance.now() - started;
  const history = await historyTimings(client, handle.workflowId);
  const workerPeakRssBytes = await worker.stop();
  log(`(a) ${label}: ${(wallMs / 1000).toFixed(2)} s`);
  return {
    label,
    settings: job.insertSettings as Record<string, number>,
    wallMs,
    history,
    summary,
    workerReadyMs: worker.readyMs,
    workerReadyRssBytes: worker.readyRssBytes,
    workerPeakRssBytes,
  };
}

const workerEnv = (address: string): Record<string, string> => ({
  ...chdbEnv,
  TEMPORAL_ADDRESS: address,
  BENCH_WORKFLOW_BUNDLE: BUNDLE_FILE,
});

/** The many-partitions scenario's days: `SCALE` × 3,650 of them, ending on `MANY_TO`. */
function manyPartitionsRange(): { from: string; to: string; partitions: number } {
  const partitions = Math.max(1, Math.round(3_650 * SCALE));
  const end = new Date(`${MANY_TO}T00:00:00Z`).getTime();
  const from = new Date(end - (partitions - 1) * 86_400_000).toISOString().slice(0, 10);
  return { from, to: MANY_TO, partitions };
}

/** Reads the last results saved for another row count, if any (see HISTORY_DIR). */
function otherRowCount(): GrowthPoint | undefined {
  if (!existsSync(HISTORY_DIR)) return undefined;
  const points = readdirSync(HISTORY_DIR)
    .filter((f) => /^rows-\d+\.json$/.test(f))
    .map((f) => JSON.parse(readFileSync(path.join(HISTORY_DIR, f), 'utf8')) as GrowthPoint)
    .filter((p) => p.rows !== ROWS);
  return points.sort((x, y) => Math.abs(Math.log(x.rows / ROWS) - 1) - Math.abs(Math.log(y.rows / ROWS) - 1))[0];
}

/**
 * `npm run bench`: on one fresh embedded engine with `BENCH_ROWS` (default 10 M) skewed demo events over six
 * months, times (a) the backfill of examples/events-daily.yaml through Temporal with fast validation, with the
 * job's insert settings and with low-memory ones, against the bare INSERT of each partition (same salts) and (b) one
 * raw INSERT … SELECT … GROUP BY over the whole range; reads each INSERT's own peak memory with either settings;
 * runs the many-partitions scenario (`BENCH_SCALE` × 3,650 daily partitions); compares with the last run of
 * another row count (cost growth). Prints a table with every target's PASS/MISS and a final JSON line; never
 * fails on a target.
 */
async function main(): Promise<void> {
  if (!Number.isInteger(ROWS) || ROWS < MONTHS) throw new Error(`BENCH_ROWS must be an integer ≥ ${MONTHS}`);
  if (!Number.isInteger(PYPI_ROWS) || PYPI_ROWS < 0) throw new Error('BENCH_PYPI_ROWS must be an integer ≥ 0');
  if (!(SCALE >= 0)) throw new Error('BENCH_SCALE must be a number ≥ 0');
  if (!Number.isInteger(MANY_PARALLELISM) || MANY_PARALLELISM < 1 || MANY_PARALLELISM > 64) {
    throw new Error('BENCH_MANY_PARALLELISM must be a whole number from 1 to 64');
  }
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
  if (PYPI_ROWS > 0) {
    log(`seeding ${PYPI_ROWS.toLocaleString('en-US')} PyPI-like rows for the view backfill`);
    await clickhouseTask<SeedResult>({ kind: 'seed-pypi', pypi: table('pypi'), rows: PYPI_ROWS, ...PYPI_RANGE });
  }
  const many = SCALE > 0 ? manyPartitionsRange() : undefined;
  if (many) {
    log(`seeding ${ROWS_PER_DAY} rows a day from ${many.from} for the many-partitions scenario`);
    await clickhouseTask<SeedResult>({
      kind: 'seed-days',
      source: table('events_days'),
      from: many.from,
      days: many.partitions,
      rowsPerDay: ROWS_PER_DAY,
    });
  }

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
    const salted = partitions.map((p) => ({ ...p, salt: salts.get(p.id) ?? 1 }));
    const { result: probe } = await clickhouseTask<ProbeResult>({
      kind: 'probe',
      job,
      source,
      target: table('events_daily'),
      scratch: table('events_daily_probe'),
      partitions: salted,
    });
    const { result: verified } = await clickhouseTask<VerifyResult>({
      kind: 'verify',
      job,
      tables: ['events_daily', 'events_daily_raw', 'events_daily_lowmem'].map(table),
      partitions: partitions.map((p) => p.id),
    });
    log('the INSERTs’ own peak memory, default and low-memory settings');
    const { result: memory } = await clickhouseTask<InsertMemoryResult>({
      kind: 'insert-memory',
      job,
      source,
      target: table('events_daily'),
      scratch: table('events_daily_memory'),
      partitions: salted,
      variants: [
        { label: 'default', settings: job.insertSettings as Record<string, number> },
        { label: 'low-memory', settings: LOW_MEMORY as Record<string, number> },
      ],
    });

    const manyPartitions = many
      ? await runManyPartitions(
          client,
          workerEnv(server.address),
          benchJob('events_days_daily', undefined, {
            source: { table: `${DB}.events_days`, timeColumn: 'ts' },
            partitionBy: 'day',
            parallelism: MANY_PARALLELISM,
          }),
          many,
          server.pid,
          log,
          VERBOSE,
        )
      : undefined;

    const viewBackfill =
      PYPI_ROWS > 0
        ? await runViewBackfillBench(
            client,
            workerEnv(server.address),
            table('pypi'),
            PYPI_ROWS,
            async (durable) =>
              (
                await clickhouseTask<PypiInsertResult>({
                  kind: 'pypi-insert',
                  pypi: table('pypi'),
                  into: table('pypi_downloads_bare'),
                  compare: durable,
                })
              ).result,
            log,
            VERBOSE,
          )
        : undefined;

    let importFiles: ImportFilesBench | undefined;
    if (IMPORT_ROWS > 0) {
      log(`import from Parquet files (${IMPORT_ROWS} rows) against a bare INSERT … SELECT from the same files`);
      // Its own engine and Temporal dev server (the test harness), in a child as every engine access is.
      const child = forkChild<ImportFilesBench>('import-files-bench.ts', {}, VERBOSE);
      importFiles = await child.next();
      await child.exited;
    }

    log('compiled worker: npm run build, then three starts of node dist/bin/worker.js');
    const workerStart = await measureWorkerStart(server.address);

    const results: BenchResults = {
      sourceRows: seed.rows,
      seedMs: seed.ms,
      runs,
      raw: { ...raw, settings: job.insertSettings as Record<string, number>, peakRssBytes: rawPeakRssBytes },
      probe,
      memory,
      mismatches: verified.mismatches,
      nullEngine,
      manyPartitions,
      scale: SCALE,
      viewBackfill,
      importFiles,
      workerStart,
      previous: otherRowCount(),
    };
    mkdirSync(HISTORY_DIR, { recursive: true });
    writeFileSync(path.join(HISTORY_DIR, `rows-${ROWS}.json`), JSON.stringify(growthPoint(results)));
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
