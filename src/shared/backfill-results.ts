import type { ServerProfile } from './server-profile';
import type { PartitionBounds } from './partitions';
import type { TableRef } from './table-ref';

/** One partition of the range, as planned from the source and the target. */
export interface PartitionPlan extends PartitionBounds {
  sourceRows: number;
  /** Rows the live target partition held when planned (part metadata); 0 when it had none. */
  targetRows: number;
  /** Rows of the largest key in this partition (approximate from above: it only sizes the salt). */
  maxRowsPerKey: number;
  /** Number of inner groups per key: 1 means a plain single-level aggregation. */
  salt: number;
  /**
   * On a sharded cluster: the shard (`shard_num`) whose part of the partition this entry is; its `id` is then
   * `<partition id>@<shard>` (see src/shared/shard-partitions.ts). Absent everywhere else.
   */
  shard?: number;
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
  /** The server as the plan found it (copied into every partition task); absent in plans from before profiles. */
  server?: ServerProfile;
  /** With `only: changed`, the partitions left out as unchanged and the ledger rows trusted for them. */
  unchanged?: UnchangedPartitions;
}

/** A ledger row `--only changed` trusted: the partition's newest swap, whose source is still the same. */
export interface TrustedLedgerRow {
  partition: string;
  /** When the swap was recorded, UTC ISO. */
  swappedAt: string;
  /** The job that swapped (a backfill, a daily run, a rollback: its workflow id). */
  writer: string;
  targetRows: number;
}

/** Partitions `--only changed` left out: how many, since when none changed, and the first of their ledger rows. */
export interface UnchangedPartitions {
  count: number;
  /** The newest swap among them: none of them changed since. */
  since: string;
  /** At most {@link MAX_TRUSTED_ROWS} of the rows trusted, in partition order (bounded: it is in history). */
  rows: TrustedLedgerRow[];
}

/** How many trusted ledger rows a plan carries (the count says how many there were). */
export const MAX_TRUSTED_ROWS = 24;

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
  /** With `only: changed`, the partitions left out as unchanged, as the plan found them. */
  unchanged?: UnchangedPartitions;
}
