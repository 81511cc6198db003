import type { AggregateJob } from '../src/shared/job-spec';
import type { PartitionBounds } from '../src/shared/partitions';
import type { OneTaskReply } from './one-task-child';
import type { TableRef } from '../src/shared/table-ref';

/** Peak resident set of a child process, in bytes (`process.resourceUsage().maxRSS`). */
export interface PeakRss {
  peakRssBytes: number;
}

/** Fills the source with the demo's skewed events. */
export interface SeedTask {
  kind: 'seed';
  source: TableRef;
  start: string;
  months: number;
  rows: number;
}

/** One INSERT … SELECT … GROUP BY over the whole range, rendered by the project's own statement functions. */
export interface RawInsertTask {
  kind: 'raw-insert';
  job: AggregateJob;
  source: TableRef;
  into: TableRef;
  range: Pick<PartitionBounds, 'start' | 'end'>;
}

/** A job's partitions (with their planned salts), whose bare INSERTs a task runs into `scratch`, shaped like `target`. */
interface BareInsertsTask {
  job: AggregateJob;
  source: TableRef;
  target: TableRef;
  scratch: TableRef;
  partitions: (PartitionBounds & { salt: number })[];
}

/**
 * Times, one by one, the queries the backfill runs besides its INSERTs, and the bare INSERT of each partition
 * into a scratch table shaped like the target, once with the planned salt and once unsalted.
 */
export interface ProbeTask extends BareInsertsTask {
  kind: 'probe';
}

/** Compares the per-partition totals of the tables the runs wrote. */
export interface VerifyTask {
  kind: 'verify';
  job: AggregateJob;
  tables: TableRef[];
  partitions: string[];
}

/** Fills a day-partitioned scenario's source: `rowsPerDay` demo events a day for `days` days from `from`. */
export interface SeedDaysTask {
  kind: 'seed-days';
  source: TableRef;
  from: string;
  days: number;
  rowsPerDay: number;
}

/**
 * Runs the bare INSERT of each partition (planned salts) once per settings variant and reads each INSERT's own peak
 * memory (src/clickhouse/query-memory.ts): the largest over the partitions, per variant.
 */
export interface InsertMemoryTask extends BareInsertsTask {
  kind: 'insert-memory';
  variants: { label: string; settings: Record<string, number> }[];
}

/** Fills a PyPI-like table (examples/demo/sql/pypi-demo.ts) with `rows` downloads over [start, end). */
export interface SeedPypiTask {
  kind: 'seed-pypi';
  pypi: TableRef;
  rows: number;
  start: string;
  end: string;
}

/**
 * One bare INSERT … SELECT of the downloads-per-project view's query over the whole PyPI-like table into `into`,
 * timed; with `compare`, whether `compare` holds the same downloads per project.
 */
export interface PypiInsertTask {
  kind: 'pypi-insert';
  pypi: TableRef;
  into: TableRef;
  compare: TableRef;
}

export type ClickHouseTask =
  SeedTask | SeedDaysTask | SeedPypiTask | RawInsertTask | ProbeTask | VerifyTask | InsertMemoryTask | PypiInsertTask;

export interface SeedResult {
  rows: number;
  ms: number;
}

export interface RawInsertResult {
  insertMs: number;
  rowsWritten: number;
}

export interface ProbeResult {
  /** The plan's per-partition stats query (`approx_top_count`) over the whole range. */
  planStatsMs: number;
  /** Fast validation's source count, summed over partitions. */
  sourceCountMs: number;
  /** One partition-totals query of the target, summed over partitions (insert, validate and swap run 1 + 1 + 2). */
  partitionTotalsMs: number;
  /** The bare INSERT … SELECT of every partition with its planned salt, summed. */
  insertPlannedSaltMs: number;
  /** Full validation's source totals (distinct keys and dates, every additive metric), summed over partitions. */
  fullValidationMs: number;
  /** The same with salt 1 (a plain single-level GROUP BY per partition), summed. */
  insertUnsaltedMs: number;
}

export interface VerifyResult {
  mismatches: string[];
}

/** One settings variant of {@link InsertMemoryTask}. */
export interface InsertMemoryRun {
  label: string;
  settings: Record<string, number>;
  /** The largest per-query peak over the partitions' INSERTs; undefined when none was caught running. */
  peakBytes?: number;
  source?: 'query_log' | 'sampled';
  samples: number;
  /** The INSERTs' wall time, summed. */
  insertMs: number;
}

export interface InsertMemoryResult {
  runs: InsertMemoryRun[];
}

export interface PypiInsertResult {
  insertMs: number;
  /** `compare` holds the same downloads per project as the bare INSERT's table. */
  agrees: boolean;
}

export type ClickHouseTaskResult =
  SeedResult | RawInsertResult | ProbeResult | VerifyResult | InsertMemoryResult | PypiInsertResult;

/** What a one-shot ClickHouse child sends back before it exits. */
export type TaskReply = OneTaskReply<ClickHouseTaskResult>;

/** What the worker child sends: once serving, its RSS when asked, and once stopped. */
export type WorkerReply =
  | { kind: 'ready'; rssBytes: number }
  | { kind: 'rss'; rssBytes: number; cpuMs: number }
  | ({ kind: 'stopped' } & PeakRss)
  | { kind: 'failed'; error: string };

/** What the bench sends the worker child: report the RSS (and CPU time so far) now, or stop. */
export interface WorkerCommand {
  kind: 'stop' | 'rss';
}
