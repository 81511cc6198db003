import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import {
  ApplicationFailure,
  ParentClosePolicy,
  sleep,
  startChild,
  type ChildWorkflowHandle,
} from '@temporalio/workflow';
import { FailureType } from '../../shared/failure-types';
import type { Safety } from '../../shared/job-spec';
import { partitionLockId } from '../../shared/partition-lock';
import { partitionWorkflow } from './partition-workflow';
import { partitionWorkflowSummary } from './step-summaries';
import type { PartitionTask } from '../../shared/partition-task';

export type PartitionWriter = ChildWorkflowHandle<typeof partitionWorkflow>;

/**
 * Starts the partition workflow for `task` under the partition's lock id. When another job's writer holds the
 * partition, waits on a durable timer and tries again every `busyRecheckSeconds` (telling `onWaiting` whom it
 * waits for), or fails at once (`PartitionBusy`) when the job says `whenPartitionBusy: fail`. A waiting writer
 * holds no lock, so two jobs waiting on each other's partitions cannot deadlock.
 *
 * The child is cancelled (and drops its shadow) when its parent closes, however it closes.
 */
export async function startPartitionWriter(
  task: PartitionTask,
  safety: Pick<Safety, 'whenPartitionBusy' | 'busyRecheckSeconds'>,
  onWaiting: (holder: string) => void = () => undefined,
): Promise<PartitionWriter> {
  const workflowId = partitionLockId(task.target, task.partition.id, task.server?.shard?.num);
  for (;;) {
    try {
      return await startChild(partitionWorkflow, {
        workflowId,
        args: [task],
        parentClosePolicy: ParentClosePolicy.REQUEST_CANCEL,
        ...partitionWorkflowSummary(task),
      });
    } catch (err) {
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
      if (safety.whenPartitionBusy === 'fail') {
        throw ApplicationFailure.create({
          message: `partition ${task.partition.id} is being written by ${workflowId} (safety.whenPartitionBusy: fail)`,
          type: FailureType.PartitionBusy,
          nonRetryable: true,
        });
      }
      onWaiting(workflowId);
      await sleep(safety.busyRecheckSeconds * 1000);
    }
  }
}
