import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type {
  BackfillProgress,
  IngestionPauseProgress,
  PartitionActivity,
  ShrinkReport,
  SnapshotProgress,
} from './progress';

/** Input of the `pause` signal: why, and whether a running INSERT is cancelled (`now`) or allowed to finish. */
export interface PauseRequest {
  reason?: string;
  now?: boolean;
}

/**
 * `pause`: no new partition and no new step starts until `resume`. With `now: true` a running INSERT is
 * cancelled too (its shadow is truncated and the step redone after resume). Accepted by the backfill and by
 * each partition workflow (the backfill forwards it to its running partitions).
 */
export const pauseSignal = defineSignal<[PauseRequest?]>('pause');

/** Addresses one partition of a job (`approve`/`reject` sent to a backfill, which forwards them). */
export interface PartitionRef {
  partition: string;
}

/**
 * `approve`: a partition waiting because it would shrink past `safety.maxShrink` goes on with its swap. Accepted
 * by the partition workflow (no input) and by a backfill (`{ partition }`, forwarded).
 */
export const approveSignal = defineSignal<[PartitionRef?]>('approve');

/** `reject`: a partition waiting for approval fails without touching the live table; its shadow is dropped. */
export const rejectSignal = defineSignal<[PartitionRef?]>('reject');

/** `resume`: lifts a manual pause. An automatic pause for cluster load lifts itself after its cool-down. */
export const resumeSignal = defineSignal('resume');

/**
 * `confirm`: an operator says inserts into a `cutoff: snapshot` job's source are paused, so the job may snapshot
 * the source and create its view; `progress` (`snapshot.state`) then says when inserts may resume.
 */
export const confirmSignal = defineSignal('confirm');

/**
 * The operator commands as workflow Updates, next to the signals above (which stay, for load scripts and any
 * Temporal client): each has a validator that refuses a command that does not apply ("already paused", "202401 is
 * not awaiting approval", "nothing to confirm yet") with that reason, leaving nothing in history, and each returns
 * one line saying what it did.
 *
 * `pause`: as the signal; refused when an operator already paused the job (unless `now` can still cancel a
 * running INSERT).
 */
export const pauseUpdate = defineUpdate<string, [PauseRequest]>('pause');

/** `resume`: lifts a manual pause; refused when the job is not paused by an operator. */
export const resumeUpdate = defineUpdate<string>('resume');

/**
 * `approve`: as the signal, to a backfill (`{ partition }`) or a partition workflow (no input); refused unless that
 * partition awaits approval and has no answer yet.
 */
export const approveUpdate = defineUpdate<string, [PartitionRef | undefined]>('approve');

/** `reject`: as the signal; refused like `approve`. */
export const rejectUpdate = defineUpdate<string, [PartitionRef | undefined]>('reject');

/**
 * `confirm`: as the signal; refused unless the job awaits a confirm. Returns once the job tried its snapshot:
 * the snapshot's state then (`inserts-may-resume`, or `awaiting-confirm` with the reason rows kept arriving).
 */
export const confirmUpdate = defineUpdate<SnapshotProgress>('confirm');

/**
 * `confirm` to a view restate with `ingestion: paused-by-operator` (the same Update name, so `ch-backfill confirm`
 * speaks to either): ingestion into the view's source is paused, so the partitions the live view can still write
 * into may be restated. Refused unless the restate awaits a confirm; returns at once with the state then
 * (`restating`): `progress` (`ingestion.state`) says when ingestion may resume.
 */
export const confirmRestateUpdate = defineUpdate<IngestionPauseProgress>('confirm');

/** `setParallelism`: how many partitions run at once from now on; returns the previous value. */
export const setParallelismUpdate = defineUpdate<number, [number]>('setParallelism');

/** `progress`: where a backfill stands, per partition and overall (see {@link BackfillProgress}). */
export const progressQuery = defineQuery<BackfillProgress>('progress');

/** Sent by a partition workflow to its parent when it starts a step, so `progress` shows the current step. */
export interface StepReport {
  partition: string;
  step: PartitionActivity;
  at: number;
  shrink?: ShrinkReport;
}

export const partitionStepSignal = defineSignal<[StepReport]>('partitionStep');

/**
 * `releaseLock`: sent by a writer's parent to the partition lock it holds beside the writer (a lower level of a
 * restated chain, see src/workflows/engine/partition-lock-workflow.ts) once the writer has closed.
 */
export const releaseLockSignal = defineSignal('releaseLock');
