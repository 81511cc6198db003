import { condition, setHandler } from '@temporalio/workflow';
import { releaseLockSignal } from '../../shared/messages';

/** What a held lock says of itself: the writer it is held for (the writer's own lock id). */
export interface PartitionLockInput {
  writer: string;
}

/**
 * Holds the lock of a partition that a writer of another partition writes: its workflow id is that partition's
 * lock id (`partition:<database>.<table>/<partition>`, src/shared/partition-lock.ts), so while it runs Temporal
 * refuses every other writer of the partition, which waits or fails as for any busy partition
 * (src/workflows/engine/partition-writer.ts). A view restate of a chain writes every level's partition in the
 * restated target's partition workflow and holds each lower level's partition with one of these.
 *
 * It writes nothing and runs until `releaseLock`, which its parent sends once the writer has closed; it is
 * terminated with its parent, should that close first.
 *
 * Durability: nothing but the wait, which is workflow state: a worker crash keeps the lock held.
 */
export async function partitionLockWorkflow(_input: PartitionLockInput): Promise<void> {
  let released = false;
  setHandler(releaseLockSignal, () => {
    released = true;
  });
  await condition(() => released);
}
