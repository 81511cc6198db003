import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { partitionLockId } from '../shared/partition-lock';
import type { TableRef } from '../shared/table-ref';

/** How many partition locks are described at once. */
const BATCH = 16;

/**
 * Which of `partitions` of `target` another job is writing now, by partition id, with that job's workflow id (the
 * partition workflow's parent, or the partition workflow itself when nothing started it as a child). Each lock is
 * described directly (not listed through visibility, which may lag), so a writer started a moment ago is seen.
 */
export async function heldPartitions(
  client: Client,
  target: TableRef,
  partitions: string[],
): Promise<Map<string, string>> {
  const held = new Map<string, string>();
  for (let i = 0; i < partitions.length; i += BATCH) {
    await Promise.all(
      partitions.slice(i, i + BATCH).map(async (id) => {
        const lock = partitionLockId(target, id);
        try {
          const described = await client.workflow.getHandle(lock).describe();
          if (described.status.name === 'RUNNING') held.set(id, described.parentExecution?.workflowId ?? lock);
        } catch (err) {
          if (!(err instanceof WorkflowNotFoundError)) throw err;
        }
      }),
    );
  }
  return held;
}
