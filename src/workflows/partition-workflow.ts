import { CancellationScope, proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { PartitionResult, PartitionTask } from '../shared/backfill-results';

const retry = { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s', maximumAttempts: 20 };

const steps = proxyActivities<Activities>({
  startToCloseTimeout: '2h',
  heartbeatTimeout: '20s',
  retry,
});

const insertStep = proxyActivities<Activities>({
  startToCloseTimeout: '24h',
  heartbeatTimeout: '20s',
  retry,
});

/**
 * Rebuilds one partition of the target: fresh shadow table, (salted) INSERT, validation against the source,
 * atomic `REPLACE PARTITION` into the target, shadow dropped.
 *
 * Durability: each step is an idempotent activity, so after a crash the workflow resumes at the first step not
 * yet recorded as complete and repeats it safely (the insert truncates first; the swap can be repeated). The
 * target changes only in the swap, atomically. On a failure the shadow is dropped and the target keeps what it
 * had.
 */
export async function backfillPartitionWorkflow(task: PartitionTask): Promise<PartitionResult> {
  try {
    const prepare = await steps.prepareShadow(task);
    const insert = await insertStep.insertPartition(task);
    const validate = await steps.validateShadow(task);
    const swap = await steps.swapPartition(task);
    const cleanup = await steps.dropShadow(task);
    return {
      partition: task.partition.id,
      salt: task.partition.salt,
      rowsRead: validate.rowsRead,
      rowsWritten: insert.rowsWritten,
      checks: validate.checks,
      stepMs: {
        prepare: prepare.durationMs,
        insert: insert.durationMs,
        validate: validate.durationMs,
        swap: swap.durationMs,
        cleanup: cleanup.durationMs,
      },
    };
  } catch (err) {
    await CancellationScope.nonCancellable(() => steps.dropShadow(task));
    throw err;
  }
}
