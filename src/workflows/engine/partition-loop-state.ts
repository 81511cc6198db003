import { addToTotals, outcomeOf, type PartitionResult } from '../../shared/backfill-results';
import type { BackfillProgress, PartitionProgress } from '../../shared/progress';

/** The bounds of `setParallelism` (and of a job's `parallelism`). */
export const MAX_PARALLELISM = 64;

/** Refuses a parallelism that is not a whole number from 1 to {@link MAX_PARALLELISM}. */
export function checkParallelism(parallelism: number): void {
  if (!Number.isInteger(parallelism) || parallelism < 1 || parallelism > MAX_PARALLELISM) {
    throw new Error(`parallelism must be a whole number from 1 to ${MAX_PARALLELISM}`);
  }
}

/** Progress with its rates as of `now` (the `progress` query's answer): rows/s, ETA, and `paused` as phase. */
export function withRates(progress: BackfillProgress, now: number): BackfillProgress {
  const elapsedS = (now - progress.startedAt) / 1000;
  const rowsPerSecond = elapsedS > 0 ? Math.round(progress.rowsRead / elapsedS) : 0;
  const remaining = progress.partitions
    .filter((p) => p.state !== 'swapped' && p.state !== 'failed')
    .reduce((n, p) => n + p.sourceRows, 0);
  const paused = progress.pause?.manual !== undefined || progress.pause?.load !== undefined;
  return {
    ...progress,
    phase: progress.phase === 'running' && paused ? 'paused' : progress.phase,
    rowsPerSecond,
    etaMs: rowsPerSecond > 0 ? Math.round((remaining / rowsPerSecond) * 1000) : undefined,
  };
}

/**
 * The bookkeeping of the partition loop (src/workflows/engine/partition-loop.ts) over a job's progress: slots, and each
 * partition's way from `pending` through `running` (or `waiting` for another writer) to `swapped`, `failed` or
 * `cancelled`, with the overall counts. Plain state without Temporal calls, so it can be unit-tested; the
 * progress object it updates is the one the `progress` query answers and continue-as-new carries.
 */
export class PartitionLoopState {
  /** Partitions holding a slot: taken before the child is started, released when it has closed. */
  active = 0;

  constructor(readonly progress: BackfillProgress) {}

  /** Whether one more partition may run beside the active ones (pause is the loop's business). */
  get hasSlot(): boolean {
    return this.active < this.progress.parallelism;
  }

  /** The entries still to start, in order. */
  pending(): PartitionProgress[] {
    return this.progress.partitions.filter((p) => p.state === 'pending');
  }

  /** Sets the parallelism from now on (checked first); returns the previous one. */
  setParallelism(parallelism: number): number {
    checkParallelism(parallelism);
    const previous = this.progress.parallelism;
    this.progress.parallelism = parallelism;
    return previous;
  }

  /** A partition takes a slot and starts (its first step is the build, `insert`, which prepares the shadow too). */
  begin(entry: PartitionProgress, now: number): void {
    this.active++;
    entry.state = 'running';
    entry.startedAt = now;
    entry.step = 'insert';
    entry.stepStartedAt = now;
  }

  /** Another job's writer holds the partition: it waits for `holder`. */
  waiting(entry: PartitionProgress, holder: string): void {
    entry.state = 'waiting';
    entry.waitingFor = holder;
    entry.step = undefined;
  }

  /** The partition's writer has started. */
  started(entry: PartitionProgress): void {
    entry.state = 'running';
    entry.waitingFor = undefined;
    entry.step ??= 'insert';
  }

  /**
   * The writer completed: the live table holds the partition. Its rows are counted; of its result the entry keeps
   * the outcome, and its checks and step times go into the totals, so the progress stays small.
   */
  succeeded(entry: PartitionProgress, result: PartitionResult): void {
    entry.result = outcomeOf(result);
    addToTotals((this.progress.totals ??= { checksPassed: {}, stepMs: {} }), result);
    entry.state = 'swapped';
    this.progress.done++;
    this.progress.rowsRead += result.rowsRead;
    this.progress.rowsWritten += result.rowsWritten;
  }

  /** The writer failed with `error`: the live partition keeps what it had. */
  failed(entry: PartitionProgress, error: string): void {
    entry.state = 'failed';
    entry.error = error;
    this.progress.failed++;
  }

  /** The writer was cancelled with the job before its swap. */
  cancelled(entry: PartitionProgress): void {
    entry.state = 'cancelled';
  }

  /** The writer has closed, however: its slot is free again. */
  finished(entry: PartitionProgress, now: number): void {
    entry.step = undefined;
    entry.waitingFor = undefined;
    entry.shrink = undefined;
    entry.finishedAt = now;
    this.active--;
  }

  /** After a cancel: every partition still under way counts as cancelled; returns all cancelled ones. */
  settleCancelled(): PartitionProgress[] {
    for (const entry of this.progress.partitions) {
      if (entry.state === 'running' || entry.state === 'validated') entry.state = 'cancelled';
    }
    return this.progress.partitions.filter((p) => p.state === 'cancelled');
  }

  /**
   * Before continue-as-new: keeps of each closed partition what the next run must carry (its state and outcome,
   * not its timings), so the carried progress grows by a few dozen bytes per partition.
   */
  compactForCarry(): void {
    this.progress.continuedAsNew++;
    for (const p of this.progress.partitions) {
      if (p.state === 'swapped' || p.state === 'failed' || p.state === 'cancelled') {
        p.startedAt = p.stepStartedAt = p.finishedAt = undefined;
      }
    }
  }
}
