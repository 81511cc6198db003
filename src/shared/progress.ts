import type { JobTotals, PartitionOutcome, PartitionPlan, PartitionStep } from './backfill-results';

/** What a partition workflow is doing: a step, paused, or waiting for an operator to approve a shrink. */
export type PartitionActivity = PartitionStep | 'paused' | 'awaiting-approval';

/** Row counts of a partition that would shrink past the job's `safety.maxShrink`. */
export interface ShrinkReport {
  liveRows: number;
  newRows: number;
}

/**
 * pending: not started; waiting: another job holds the partition (`waitingFor` names its workflow); running: a step is under way (see `step`); validated: the shadow matched the source and
 * the swap is next; swapped: the live table holds the new partition; failed; cancelled: stopped by a cancel
 * before its swap (the live table keeps its old partition).
 */
export type PartitionState = 'pending' | 'waiting' | 'running' | 'validated' | 'swapped' | 'failed' | 'cancelled';

export interface PartitionProgress {
  id: string;
  state: PartitionState;
  /** The step under way while running; `paused` while it waits for a resume; `awaiting-approval` for a shrink. */
  step?: PartitionActivity;
  /** While `waiting`: the workflow id holding the partition. */
  waitingFor?: string;
  /** While `awaiting-approval`: the live and the new row counts. */
  shrink?: ShrinkReport;
  salt: number;
  sourceRows: number;
  startedAt?: number;
  stepStartedAt?: number;
  finishedAt?: number;
  /** A done partition's outcome (its checks and step times are in the job's `totals`). */
  result?: PartitionOutcome;
  error?: string;
}

/** Why a backfill is paused: by an operator (`manual`), by the cluster's load (`load`), or both. */
export interface PauseState {
  manual?: string;
  load?: string;
  since?: number;
}

/**
 * Where a `cutoff: snapshot` view job stands with its source: `awaiting-confirm` (inserts must be paused, then
 * `confirm`), `snapshotting` (the snapshot is being taken and the view created: inserts must stay paused),
 * `inserts-may-resume` (the view exists and the snapshot holds every row before it), then `dropped` once the
 * backfill no longer needs the snapshot, or `kept` when partitions failed (they can be refilled from it).
 */
export interface SnapshotProgress {
  state: 'awaiting-confirm' | 'snapshotting' | 'inserts-may-resume' | 'dropped' | 'kept';
  /** The source whose inserts the operator pauses (`database.table`). */
  source: string;
  /** The snapshot table (`database.table`). */
  table: string;
  /** How many times a confirm led to an attempt at the snapshot (each after a `confirm`). */
  attempts: number;
  /** Rows the snapshot holds, once taken. */
  rows?: number;
  /** Why an earlier confirm did not lead to a snapshot (rows kept arriving): the job waits for another. */
  retryReason?: string;
  /** When the view was created and inserts could resume (epoch ms). */
  insertsMayResumeAt?: number;
}

/**
 * Where a view restate with `ingestion: paused-by-operator` stands with ingestion into its view's source:
 * `restating-before-pause` (the partitions the live view writes no more into, while ingestion runs),
 * `awaiting-confirm` (ingestion must be paused, then `confirm`), `restating` (the partitions the live view can
 * still write into: ingestion must stay paused), `ingestion-may-resume` (those partitions were swapped, or the run
 * ended without touching them).
 */
export interface IngestionPauseProgress {
  state: 'restating-before-pause' | 'awaiting-confirm' | 'restating' | 'ingestion-may-resume';
  /** The view's source whose ingestion the operator pauses (`database.table`). */
  source: string;
  /** The partitions restated while ingestion is paused. */
  partitions: string[];
  /** When the confirm was accepted (epoch ms). */
  confirmedAt?: number;
  /** Since when ingestion may resume (epoch ms). */
  mayResumeAt?: number;
}

/** One running batch of an import from files, as progress shows it: its size and its first and last file. */
export interface FileBatchProgress {
  batch: string;
  files: number;
  bytes: number;
  /** Paths cut to {@link PROGRESS_PATH_CHARS} characters: the payload stays bounded whatever the paths. */
  first: string;
  last: string;
}

/** An import from files: files and bytes loaded (batches moved) out of the plan's, and the running batches. */
export interface FilesProgress {
  files: number;
  bytes: number;
  filesDone: number;
  bytesDone: number;
  /** At most `parallelism` entries (64). */
  current: FileBatchProgress[];
}

/** How much of a path progress shows (its end, where the file name is, after a leading `…`). */
export const PROGRESS_PATH_CHARS = 200;

/**
 * Where a backfill stands: answered by the `progress` query at any time, also after it closed. `waiting`: a view
 * backfill waits for its cutoff to pass, or a snapshot job for the operator's `confirm`.
 */
export interface BackfillProgress {
  phase: 'planning' | 'waiting' | 'running' | 'paused' | 'completed' | 'failed' | 'cancelled';
  target?: string;
  /** A view backfill's cutoff (UTC): the view writes rows from it on, the backfill the rows before. */
  cutoff?: string;
  /** A `cutoff: snapshot` view job's snapshot of its source. */
  snapshot?: SnapshotProgress;
  /** A view restate with `ingestion: paused-by-operator`: where it stands with ingestion into the view's source. */
  ingestion?: IngestionPauseProgress;
  /** An import's checkpoint (UTC): history before it is loaded, ingestion writes the rows from it on. */
  checkpoint?: string;
  /** An import from files: files and bytes done out of the total, and the running batches' files. */
  files?: FilesProgress;
  partitions: PartitionProgress[];
  done: number;
  failed: number;
  total: number;
  rowsRead: number;
  rowsWritten: number;
  startedAt: number;
  /** Rows of the source read per second by the partitions done so far (wall clock since the start). */
  rowsPerSecond: number;
  /** Estimated milliseconds to go, from `rowsPerSecond` and the source rows of the partitions not yet done. */
  etaMs?: number;
  parallelism: number;
  pause?: PauseState;
  /** Why the last load check found the cluster busy (also kept after an automatic resume). */
  lastLoadReason?: string;
  /** The table keeping the replaced partitions for `rollback` (`database.table`). */
  backup?: string;
  /**
   * A view restate of a chain: each level below the target (`database.table`) with the table keeping its replaced
   * partitions, each after the level it reads; rolled back with the target.
   */
  chain?: { target: string; backup: string }[];
  /** How many times this backfill continued as new. */
  continuedAsNew: number;
  /** Checks passed and step times of the done partitions, summed (absent in progress recorded before it existed). */
  totals?: JobTotals;
}

/** The progress of a job that has not planned yet, started now. */
export function initialProgress(parallelism: number): BackfillProgress {
  return {
    phase: 'planning',
    partitions: [],
    done: 0,
    failed: 0,
    total: 0,
    rowsRead: 0,
    rowsWritten: 0,
    startedAt: Date.now(),
    rowsPerSecond: 0,
    parallelism,
    continuedAsNew: 0,
    totals: { checksPassed: {}, stepMs: {} },
  };
}

/** The progress entries of planned partitions (or batches) not started yet. */
export function pendingPartitions(partitions: readonly PartitionPlan[]): PartitionProgress[] {
  return partitions.map((p) => ({ id: p.id, state: 'pending', salt: 1, sourceRows: p.sourceRows }));
}
