import { readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import type { TableRef } from '../src/shared/backfill-results';
import { aggregateJobSchema, type AggregateJob, type InsertSettings } from '../src/shared/job-spec';
import { forkChild } from './child-process';

/**
 * The per-partition INSERTs of the aggregate backfill, measured alone: the demo's skewed events (as `npm run bench`
 * seeds them) over six months, each monthly partition's `INSERT … SELECT` rendered by `insertAggregation` with the
 * salt the plan would choose, into a scratch table shaped like the target, one partition after the other as a backfill
 * with parallelism 1 runs them. Each settings profile runs in a fresh process of its own, as on a freshly started
 * worker: ClickHouse sizes a GROUP BY's hash table from earlier runs of the same query shape in the process, so a
 * profile measured after another would start with the other's table.
 */

/** Where the demo data lies: `rows` events from 2024-01-01 over six monthly partitions. */
export const DEMO = {
  database: 'bench',
  start: '2024-01-01',
  months: 6,
  from: '2024-01-01',
  to: '2024-06-30',
} as const;

export const DEMO_SOURCE: TableRef = { database: DEMO.database, name: 'events' };
/** The scratch table each partition's INSERT fills (truncated before each). */
export const DEMO_SCRATCH: TableRef = { database: DEMO.database, name: 'events_daily_insert_probe' };

/** A set of `insertSettings`, named for the report. */
export interface InsertProfile {
  label: string;
  settings: InsertSettings;
}

const examplePath = (file: string): string => path.resolve(__dirname, '..', 'examples', file);

/** `examples/<file>` on the bench's source, with the spec's default chunk size, as `npm run bench` runs it. */
export function demoJob(file: string): AggregateJob {
  const example = parse(readFileSync(examplePath(file), 'utf8'));
  return aggregateJobSchema.parse({
    ...example,
    source: { ...example.source, table: `${DEMO_SOURCE.database}.${DEMO_SOURCE.name}` },
    target: { table: `${DEMO_SCRATCH.database}.${DEMO_SCRATCH.name}` },
    chunkSize: undefined,
  });
}

/** The labels of {@link insertProfiles}, by which the reports find their runs. */
export const PROFILE = {
  defaults: 'engine defaults',
  guide: "the guide's settings",
  lowMemory: 'low-memory',
} as const;

/**
 * What the reports compare: a job without `insertSettings` (the engine's defaults, `max_threads` = the cores); the
 * four settings of ClickHouse's backfilling guide alone; and the `insertSettings` of
 * examples/events-daily-low-memory.yaml, which the README's job spec documents.
 */
export function insertProfiles(): Record<keyof typeof PROFILE, InsertProfile> {
  return {
    defaults: { label: PROFILE.defaults, settings: {} },
    guide: {
      label: PROFILE.guide,
      settings: {
        max_threads: 1,
        max_insert_threads: 1,
        min_insert_block_size_rows: 0,
        min_insert_block_size_bytes: 10_485_760,
      },
    },
    lowMemory: { label: PROFILE.lowMemory, settings: demoJob('events-daily-low-memory.yaml').insertSettings },
  };
}

/** One partition's INSERT, measured alone. */
export interface PartitionInsert {
  partition: string;
  sourceRows: number;
  salt: number;
  wallMs: number;
  /** The INSERT's own peak memory (src/clickhouse/query-memory.ts); undefined when it ended before a reading. */
  peakMemoryBytes?: number;
  memorySamples: number;
  /** Rows, events and order-free hash of what it wrote (`selectEventsDailyDigest`). */
  digest: { rows: string; events: string; hash: string };
}

/** Every partition's INSERT under one profile, in partition order. */
export interface ProfileRun {
  profile: InsertProfile;
  partitions: PartitionInsert[];
}

/** One data size: the seeding and the runs of each profile over it. */
export interface DemoRun {
  rows: number;
  seedMs: number;
  runs: ProfileRun[];
}

export type PartitionInsertsTask =
  { kind: 'seed'; rows: number } | { kind: 'measure'; job: AggregateJob; profile: InsertProfile };
export type PartitionInsertsReply =
  { ok: true; seedMs: number } | { ok: true; run: ProfileRun } | { ok: false; error: string };

async function inChild(dataDir: string, task: PartitionInsertsTask, verbose: boolean): Promise<PartitionInsertsReply> {
  const child = forkChild<PartitionInsertsReply, PartitionInsertsTask>(
    'partition-inserts-task.ts',
    { CLICKHOUSE_DATA_DIR: dataDir, CLICKHOUSE_URL: '' },
    verbose,
  );
  child.send(task);
  const reply = await child.next();
  await child.exited;
  if (!reply.ok) throw new Error(`partition inserts (${task.kind}) failed: ${reply.error}`);
  return reply;
}

/**
 * Seeds `rows` demo events into `dataDir` (emptied first), then measures each profile's per-partition INSERTs, each
 * profile in a process of its own, and removes `dataDir` (at 100 M rows it holds about 600 MB). The job is
 * examples/events-daily.yaml's.
 */
export async function measureDemoRun(
  dataDir: string,
  rows: number,
  profiles: InsertProfile[],
  verbose = false,
): Promise<DemoRun> {
  rmSync(dataDir, { recursive: true, force: true });
  const seeded = await inChild(dataDir, { kind: 'seed', rows }, verbose);
  const job = demoJob('events-daily.yaml');
  const runs: ProfileRun[] = [];
  for (const profile of profiles) {
    const measured = await inChild(dataDir, { kind: 'measure', job, profile }, verbose);
    if ('run' in measured) runs.push(measured.run);
  }
  rmSync(dataDir, { recursive: true, force: true });
  return { rows, seedMs: 'seedMs' in seeded ? seeded.seedMs : 0, runs };
}

/** The run of the profile labelled `label`; throws when it was not measured. */
export function runOf(run: DemoRun, label: string): ProfileRun {
  const found = run.runs.find((r) => r.profile.label === label);
  if (!found) throw new Error(`no run of the profile "${label}"`);
  return found;
}

/** The highest per-query peak of a run's INSERTs: what the backfill needs at most; undefined if none was read. */
export function peakOfRun(run: ProfileRun): number | undefined {
  const peaks = run.partitions.flatMap((p) => (p.peakMemoryBytes === undefined ? [] : [p.peakMemoryBytes]));
  return peaks.length > 0 ? Math.max(...peaks) : undefined;
}

/** Source rows per second of wall time, over all of a run's INSERTs. */
export function rowsPerSecond(run: ProfileRun): number {
  const rows = run.partitions.reduce((n, p) => n + p.sourceRows, 0);
  const ms = run.partitions.reduce((n, p) => n + p.wallMs, 0);
  return ms > 0 ? rows / (ms / 1000) : 0;
}

/** Partitions whose INSERT wrote something else under `run` than under `reference`, or lost or doubled events. */
export function inexactPartitions(reference: ProfileRun, run: ProfileRun): string[] {
  const expected = new Map(reference.partitions.map((p) => [p.partition, p.digest]));
  return run.partitions
    .filter((p) => {
      const ref = expected.get(p.partition);
      const same = ref !== undefined && ref.hash === p.digest.hash && ref.rows === p.digest.rows;
      return !same || Number(p.digest.events) !== p.sourceRows;
    })
    .map((p) => p.partition);
}
