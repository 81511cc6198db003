import type { ImportBatchBuild, ImportDuplicates } from './import-input';
import type { AggregateJob, ImportJob, ViewJob } from './job-spec';
import type { PartitionBounds } from './partitions';

/** A table with its database resolved, as the plan fixes it for every later step. */
export interface TableRef {
  database: string;
  name: string;
}

/** One partition of the range, as planned from the source and the target. */
export interface PartitionPlan extends PartitionBounds {
  sourceRows: number;
  /** Rows the live target partition held when planned (part metadata); 0 when it had none. */
  targetRows: number;
  /** Rows of the largest key in this partition (approximate from above: it only sizes the salt). */
  maxRowsPerKey: number;
  /** Number of inner groups per key: 1 means a plain single-level aggregation. */
  salt: number;
}

export interface BackfillPlan {
  source: TableRef;
  target: TableRef;
  targetCreated: boolean;
  /**
   * The source is a MergeTree table, so its parts fingerprint what a build read (for the ledger); absent in plans
   * from before the plan said so.
   */
  sourceHasParts?: boolean;
  /**
   * Every partition of the range with source rows, and every partition of the range the target holds rows in:
   * one with target rows and no source rows is emptied, so the range ends equal to the source.
   */
  partitions: PartitionPlan[];
}

/**
 * How a partition writer fills its shadow:
 * - `rebuild`: the job's aggregation of the whole partition from the source (nothing when the source has none);
 * - `day`: the live partition with one day re-aggregated from the source (the daily run);
 * - `restore`: the copy of the partition kept in `from` before an earlier swap (rollback), which held `rows` rows;
 *   0 means the partition did not exist before, so the restore empties it.
 */
export type ShadowBuild =
  { kind: 'rebuild' } | { kind: 'day'; day: string } | { kind: 'restore'; from: TableRef; rows: number };

/** What every partition workflow needs: the resolved tables and the partition. */
interface PartitionTaskBase {
  source: TableRef;
  target: TableRef;
  /** This writer's shadow of the partition (see src/shared/writer-tables.ts). */
  shadow: TableRef;
  partition: PartitionPlan;
}

/** What the partition workflow needs for an aggregate job: the job, the partition and how to build it. */
export interface AggregatePartitionTask extends PartitionTaskBase {
  job: AggregateJob;
  build: ShadowBuild;
  /** The plan's {@link BackfillPlan.sourceHasParts}; absent: the build asks the source's engine itself. */
  sourceHasParts?: boolean;
  /** Absent (or `replace`): the swap makes the live partition equal the shadow (`REPLACE PARTITION`). */
  swap?: 'replace';
  /** Where the live partition's parts are kept (hard links) before the swap, for rollback; none: not kept. */
  backup?: TableRef;
  /**
   * A validated shadow with more than this fraction fewer rows than the live partition waits for `approve` or
   * `reject`; absent: no guard (`--allow-shrink`, rollback).
   */
  maxShrink?: number;
}

/**
 * A view job's partition: the view's SELECT over the partition's source rows before `cutoff` (epoch seconds), by
 * the job's `fill` method, validated, then appended to the live target with `MOVE PARTITION`, because the live
 * view writes the same partition. No shrink guard and no backup: an append removes nothing from the live table.
 * Without `cutoff` (a `cutoff: snapshot` job) the source is the job's snapshot and the fill reads all of it.
 */
export interface ViewPartitionTask extends PartitionTaskBase {
  job: ViewJob;
  build: { kind: 'view-fill'; cutoff?: number };
  swap: 'append';
  backup?: undefined;
  maxShrink?: undefined;
}

/**
 * An import job's batch: the history rows of one partition of the main table (the task's `target`, read from
 * `source`) before the checkpoint, inserted into the main table's duplicate (the shadow), whose view copies fill the
 * view targets' duplicates; validated, then every duplicate's partitions moved into its live table (`MOVE
 * PARTITION`, appended: ingestion goes on writing the same tables). No shrink guard and no backup.
 */
export interface ImportPartitionTask extends PartitionTaskBase {
  job: ImportJob;
  build: ImportBatchBuild;
  swap: 'move-all';
  duplicates: ImportDuplicates;
  backup?: undefined;
  maxShrink?: undefined;
}

export type PartitionTask = AggregatePartitionTask | ViewPartitionTask | ImportPartitionTask;

export interface ValidationCheck {
  name: string;
  expected: string;
  actual: string;
  ok: boolean;
}

export type PartitionStep = 'prepare' | 'insert' | 'validate' | 'backup' | 'swap' | 'cleanup';

/**
 * What a job keeps of one done partition: its rows and what the swap did. Bounded on purpose (a job may have
 * thousands of partitions): the partition's checks and step times are counted into {@link JobTotals}, and stay in
 * full in the result of its partition workflow (Web UI, history).
 */
export interface PartitionOutcome {
  partition: string;
  salt: number;
  rowsRead: number;
  rowsWritten: number;
  /** Rows the live partition held just before the swap. */
  rowsBefore: number;
  /** The source had no rows for the partition: the target partition was emptied (`rowsBefore` rows removed). */
  emptied: boolean;
  /** Rows kept in the backup table for rollback (0: the live partition was empty); absent: no backup taken. */
  backupRows?: number;
}

/** What a partition workflow returns: its outcome, with every validation check and each step's time. */
export interface PartitionResult extends PartitionOutcome {
  checks: ValidationCheck[];
  stepMs: Partial<Record<PartitionStep, number>>;
}

/** The per-partition figures of a job summed over its done partitions: a fixed size, however many partitions. */
export interface JobTotals {
  /** Per validation check name, how many partitions passed it (a failed check fails its partition). */
  checksPassed: Record<string, number>;
  /** Per step, the milliseconds its step timers took, summed over partitions. */
  stepMs: Partial<Record<PartitionStep, number>>;
}

/** What the job keeps of a partition workflow's result (see {@link PartitionOutcome}). */
export function outcomeOf(result: PartitionResult): PartitionOutcome {
  const { partition, salt, rowsRead, rowsWritten, rowsBefore, emptied, backupRows } = result;
  return { partition, salt, rowsRead, rowsWritten, rowsBefore, emptied, backupRows };
}

/** Adds a partition workflow's checks and step times to `totals`. */
export function addToTotals(totals: JobTotals, result: PartitionResult): void {
  for (const check of result.checks)
    if (check.ok) totals.checksPassed[check.name] = (totals.checksPassed[check.name] ?? 0) + 1;
  for (const [step, ms] of Object.entries(result.stepMs) as [PartitionStep, number | undefined][]) {
    if (ms !== undefined) totals.stepMs[step] = (totals.stepMs[step] ?? 0) + ms;
  }
}

export interface BackfillSummary {
  workflowId: string;
  target: string;
  from: string;
  to: string;
  /** Every done partition, in order (bounded per partition: see {@link PartitionOutcome}). */
  partitions: PartitionOutcome[];
  /** Checks passed and step times, summed over the done partitions. */
  totals: JobTotals;
  failed: { partition: string; error: string }[];
  rowsRead: number;
  rowsWritten: number;
  elapsedMs: number;
  /** The table holding the replaced partitions for `rollback`, until its retention ends. */
  backup?: string;
}
