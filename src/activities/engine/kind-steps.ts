import type { PartitionTask } from '../../shared/partition-task';
import type { SwapContext } from './ledger';
import type { BackupResult, BuildResult, StepTiming, SwapResult, ValidateResult } from './step-runner';

/** What a build reports; `rowsWritten` only where the build counts them itself (validation counts the rest). */
export type BuildOutcome = Omit<BuildResult, 'rowsWritten'> & { rowsWritten?: number };

/** How the build is asked to run: `fresh`, the shadow was just made afresh, so it needs no truncate. */
export interface BuildOptions {
  fresh?: boolean;
}

/**
 * The steps of one kind of partition task over its writer's own shadow. The partition workflow runs them in this
 * order; only `swap` changes a live table. Each is an idempotent activity body: its durability contract is in
 * the TSDoc of the activity that runs it (src/activities/engine/partition-steps.ts) and of each kind's steps.
 */
export interface KindSteps<T extends PartitionTask> {
  /** The shadow (and whatever else the build writes into) afresh. */
  prepare(task: T): Promise<StepTiming>;
  /** Fills the shadow's partition. */
  build(task: T, options: BuildOptions): Promise<BuildOutcome>;
  /** Checks the shadow; a mismatch throws `ValidationMismatchError`. */
  validate(task: T): Promise<ValidateResult>;
  /** Keeps the live partition for rollback: only kinds that replace a partition keep one. */
  backup?(task: T): Promise<BackupResult>;
  /** Makes the shadow's partition live: replaced, appended or moved, as the kind does it. */
  swap(task: T, context?: SwapContext): Promise<SwapResult>;
  /** Drops what `prepare` created. */
  drop(task: T): Promise<StepTiming>;
}
