import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { PartitionStep } from './backfill-results';
import type { BackfillProgress } from './progress';

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

/** `resume`: lifts a manual pause. An automatic pause for cluster load lifts itself after its cool-down. */
export const resumeSignal = defineSignal('resume');

/** `setParallelism`: how many partitions run at once from now on; returns the previous value. */
export const setParallelismUpdate = defineUpdate<number, [number]>('setParallelism');

/** `progress`: where a backfill stands, per partition and overall (see {@link BackfillProgress}). */
export const progressQuery = defineQuery<BackfillProgress>('progress');

/** Sent by a partition workflow to its backfill when it starts a step, so `progress` shows the current step. */
export interface StepReport {
  partition: string;
  step: PartitionStep | 'paused';
  at: number;
}

export const partitionStepSignal = defineSignal<[StepReport]>('partitionStep');
