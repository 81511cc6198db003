import type { TableRef } from '../src/shared/backfill-results';
import type { AggregateJob } from '../src/shared/job-spec';
import type { PartitionBounds } from '../src/shared/partitions';

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

/**
 * Times, one by one, the queries the backfill runs besides its INSERTs, and the bare INSERT of each partition
 * into a scratch table shaped like the target, once with the planned salt and once unsalted.
 */
export interface ProbeTask {
  kind: 'probe';
  job: AggregateJob;
  source: TableRef;
  target: TableRef;
  scratch: TableRef;
  partitions: (PartitionBounds & { salt: number })[];
}

/** Compares the per-partition totals of the tables the runs wrote. */
export interface VerifyTask {
  kind: 'verify';
  job: AggregateJob;
  tables: TableRef[];
  partitions: string[];
}

export type ClickHouseTask = SeedTask | RawInsertTask | ProbeTask | VerifyTask;

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
  /** The same with salt 1 (a plain single-level GROUP BY per partition), summed. */
  insertUnsaltedMs: number;
}

export interface VerifyResult {
  mismatches: string[];
}

export type ClickHouseTaskResult = SeedResult | RawInsertResult | ProbeResult | VerifyResult;

/** What a one-shot ClickHouse child sends back before it exits. */
export type TaskReply = ({ ok: true; result: ClickHouseTaskResult } | { ok: false; error: string }) & PeakRss;

/** What the worker child sends: once serving, and once stopped. */
export type WorkerReply =
  { kind: 'ready'; rssBytes: number } | ({ kind: 'stopped' } & PeakRss) | { kind: 'failed'; error: string };

/** What the bench sends the worker child. */
export interface WorkerCommand {
  kind: 'stop';
}
