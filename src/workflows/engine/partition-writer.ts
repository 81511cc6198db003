import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import {
  ApplicationFailure,
  CancellationScope,
  ChildWorkflowCancellationType,
  ParentClosePolicy,
  patched,
  sleep,
  startChild,
  type ChildWorkflowHandle,
} from '@temporalio/workflow';
import { FailureType } from '../../shared/failure-types';
import type { Safety } from '../../shared/job-spec';
import { releaseLockSignal } from '../../shared/messages';
import { partitionLockId } from '../../shared/partition-lock';
import { qualifiedName } from '../../shared/table-ref';
import { partitionLockWorkflow } from './partition-lock-workflow';
import { partitionWorkflow } from './partition-workflow';
import { partitionWorkflowSummary } from './step-summaries';
import type { PartitionTask } from '../../shared/partition-task';

export type PartitionWriter = ChildWorkflowHandle<typeof partitionWorkflow>;
type HeldLock = ChildWorkflowHandle<typeof partitionLockWorkflow>;

/**
 * Starts the partition workflow for `task` under the partition's lock id. When another job's writer holds the
 * partition, waits on a durable timer and tries again every `busyRecheckSeconds` (telling `onWaiting` whom it
 * waits for), or fails at once (`PartitionBusy`) when the job says `whenPartitionBusy: fail`. A waiting writer
 * holds no lock, so two jobs waiting on each other's partitions cannot deadlock.
 *
 * A task that also writes other tables' partitions (a restated chain's lower levels, `task.chain`) first takes
 * each of their locks with a {@link partitionLockWorkflow} under that partition's lock id, then starts the writer:
 * all of them or none (a busy one releases those taken before the wait). The writer returned releases them once
 * it has closed, when its `result()` settles (patch `view-restate-level-locks`; before it, only the target's lock
 * was taken).
 *
 * The child is cancelled (and drops its shadow) when its parent closes, however it closes; the locks held beside
 * it are terminated then.
 */
export async function startPartitionWriter(
  task: PartitionTask,
  safety: Pick<Safety, 'whenPartitionBusy' | 'busyRecheckSeconds'>,
  onWaiting: (holder: string) => void = () => undefined,
): Promise<PartitionWriter> {
  const shard = task.server?.shard?.num;
  const workflowId = partitionLockId(task.target, task.partition.id, shard);
  // Only chains take further locks: histories without one never reach the patch.
  const levels = 'chain' in task ? (task.chain ?? []) : [];
  const others =
    levels.length > 0 && patched('view-restate-level-locks')
      ? levels.map((level) => partitionLockId(level.target, task.partition.id, shard))
      : [];
  for (;;) {
    const held: HeldLock[] = [];
    let wanted = workflowId;
    try {
      for (const lock of others) {
        wanted = lock;
        held.push(
          await startChild(partitionLockWorkflow, {
            workflowId: lock,
            args: [{ writer: workflowId }],
            // Released by us once the writer closed, also when the job is cancelled (a swap under way finishes).
            cancellationType: ChildWorkflowCancellationType.ABANDON,
            parentClosePolicy: ParentClosePolicy.TERMINATE,
            staticSummary: `lock held for ${workflowId} (${qualifiedName(task.target)} partition ${task.partition.id} writes it too)`,
          }),
        );
      }
      wanted = workflowId;
      const writer = await startChild(partitionWorkflow, {
        workflowId,
        args: [task],
        parentClosePolicy: ParentClosePolicy.REQUEST_CANCEL,
        ...partitionWorkflowSummary(task),
      });
      return held.length === 0 ? writer : holdingLocks(writer, held);
    } catch (err) {
      await release(held);
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
      if (safety.whenPartitionBusy === 'fail') {
        throw ApplicationFailure.create({
          message: `partition ${task.partition.id} is being written by ${wanted} (safety.whenPartitionBusy: fail)`,
          type: FailureType.PartitionBusy,
          nonRetryable: true,
        });
      }
      onWaiting(wanted);
      await sleep(safety.busyRecheckSeconds * 1000);
    }
  }
}

/** `writer`, whose `result()` releases `locks` once the writer has closed, however it closed. */
function holdingLocks(writer: PartitionWriter, locks: HeldLock[]): PartitionWriter {
  return {
    workflowId: writer.workflowId,
    firstExecutionRunId: writer.firstExecutionRunId,
    signal: (def, ...args) => writer.signal(def, ...args),
    signalWithOptions: (name, options) => writer.signalWithOptions(name, options),
    result: async () => {
      try {
        return await writer.result();
      } finally {
        await release(locks);
      }
    },
  };
}

/** Releases `locks` and waits until each has closed, outside cancellation (a lock that is gone is released). */
async function release(locks: HeldLock[]): Promise<void> {
  if (locks.length === 0) return;
  await CancellationScope.nonCancellable(async () => {
    await Promise.all(locks.map((lock) => lock.signal(releaseLockSignal).catch(() => undefined)));
    await Promise.all(locks.map((lock) => lock.result().catch(() => undefined)));
  });
}
