import {
  proxyLocalActivities,
  workflowInfo,
  type ActivityOptions,
  type LocalActivityOptions,
} from '@temporalio/workflow';
import type { Activities } from '../../activities';
import type { PartitionPlan } from '../../shared/backfill-results';
import type { Safety } from '../../shared/job-spec';
import type { LoadThresholds } from '../../shared/load-thresholds';
import { initialProgress, type BackfillProgress } from '../../shared/progress';
import { writerTag } from '../../shared/writer-tables';
import type { ServerProfile } from '../../shared/server-profile';
import { PartitionLoop, type PartitionLoopOptions } from './partition-loop';
import { qualifiedName, type TableRef } from '../../shared/table-ref';

const retry = { initialInterval: '1s', maximumInterval: '30s', maximumAttempts: 10 };

/** How a job's activities run: up to an hour an attempt, heartbeats within 20 s (a dead worker), ten attempts. */
export const JOB_ACTIVITY_OPTIONS = {
  startToCloseTimeout: '1h',
  heartbeatTimeout: '20s',
  retry,
} satisfies ActivityOptions;

/** How a job's local activities (its input's defaults, load checks) run: a minute an attempt, ten attempts. */
export const JOB_LOCAL_ACTIVITY_OPTIONS = { startToCloseTimeout: '1m', retry } satisfies LocalActivityOptions;

const { checkClusterLoad } = proxyLocalActivities<Activities>(JOB_LOCAL_ACTIVITY_OPTIONS);

/** What a partitioned job's run works with once its input is resolved. */
export interface JobRun {
  workflowId: string;
  /** The writer tag of its shadows: the same in every run after a continue-as-new (see writerTag). */
  tag: string;
  loop: PartitionLoop;
  progress: BackfillProgress;
}

/**
 * The start every view, snapshot and import job shares: its writer tag, and the partition loop over the progress
 * carried across continue-as-new, or fresh with the job's parallelism (the loop installs the job's handlers).
 */
export function startJobRun(parallelism: number, carried: BackfillProgress | undefined): JobRun {
  const { workflowId, firstExecutionRunId } = workflowInfo();
  const loop = new PartitionLoop(carried ?? initialProgress(parallelism));
  return { workflowId, tag: writerTag(workflowId, firstExecutionRunId), loop, progress: loop.progress };
}

/**
 * The loop options a job fills from its job and planned tables alike: how a busy partition is handled, and the
 * load check before each partition (the `checkClusterLoad` local activity on source and target, on every replica
 * where the plan's server profile has several).
 */
export function jobLoopOptions(
  job: { safety: Safety; load: LoadThresholds },
  tables: { source: TableRef; target: TableRef; server?: ServerProfile },
): Pick<PartitionLoopOptions<PartitionPlan>, 'safety' | 'load' | 'target'> {
  const { source, target, server } = tables;
  return {
    safety: job.safety,
    load: { thresholds: job.load, sample: () => checkClusterLoad({ source, target, server }) },
    target: qualifiedName(target),
  };
}
