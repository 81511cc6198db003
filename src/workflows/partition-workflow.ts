import {
  CancellationScope,
  condition,
  getExternalWorkflowHandle,
  isCancellation,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { PartitionResult, PartitionStep, PartitionTask } from '../shared/backfill-results';
import { partitionStepSignal, pauseSignal, resumeSignal, type PauseRequest } from '../shared/messages';

const retry = { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s', maximumAttempts: 20 };

const steps = proxyActivities<Activities>({
  startToCloseTimeout: '2h',
  heartbeatTimeout: '20s',
  retry,
});

// Creating and dropping the shadow take milliseconds: local activities spare each a server round trip, and a
// crash during one simply re-runs it on replay (both are idempotent).
const quickSteps = proxyLocalActivities<Activities>({
  startToCloseTimeout: '5m',
  retry,
});

const insertStep = proxyActivities<Activities>({
  startToCloseTimeout: '24h',
  heartbeatTimeout: '20s',
  retry,
});

/**
 * Rebuilds one partition of the target: fresh shadow table, (salted) INSERT, validation against the source,
 * atomic `REPLACE PARTITION` into the target, shadow dropped. Reports each step it starts to its parent backfill
 * (signal `partitionStep`), so the backfill's `progress` query shows it.
 *
 * Pause: on `pause` no further step starts until `resume`; `pause` with `now` also cancels a running INSERT,
 * which is redone from a truncated shadow after the resume, so no row is lost or doubled.
 *
 * Durability: each step is an idempotent activity, so after a crash the workflow resumes at the first step not
 * yet recorded as complete and repeats it safely (the insert truncates first; the swap can be repeated). The
 * target changes only in the swap, atomically. On a failure or cancellation before the swap the shadow is
 * dropped and the target keeps what it had; once the swap has started, a cancellation no longer interrupts it,
 * and the workflow completes (the partition counts as swapped).
 */
export async function backfillPartitionWorkflow(task: PartitionTask): Promise<PartitionResult> {
  let pause: PauseRequest | undefined;
  let insertScope: CancellationScope | undefined;
  let insertInterrupted = false;
  setHandler(pauseSignal, (request = {}) => {
    pause = request;
    if (request.now && insertScope) {
      insertInterrupted = true;
      insertScope.cancel();
    }
  });
  setHandler(resumeSignal, () => {
    pause = undefined;
  });

  const parent = workflowInfo().parent;
  const report = (step: PartitionStep | 'paused'): void => {
    if (!parent) return;
    // Best effort: a progress report must never fail the partition.
    getExternalWorkflowHandle(parent.workflowId)
      .signal(partitionStepSignal, { partition: task.partition.id, step, at: Date.now() })
      .catch(() => undefined);
  };
  // Each report costs a workflow task here and one in the parent, so the first step goes unreported: the
  // parent marks a partition as preparing when it starts it.
  const startStep = async (step: PartitionStep): Promise<void> => {
    const paused = pause !== undefined;
    if (paused) {
      report('paused');
      await condition(() => pause === undefined);
    }
    if (step !== 'prepare' || paused) report(step);
  };

  try {
    await startStep('prepare');
    const prepare = await quickSteps.prepareShadow(task);
    let insert;
    for (;;) {
      await startStep('insert');
      insertScope = new CancellationScope();
      insertInterrupted = false;
      try {
        insert = await insertScope.run(() => insertStep.insertPartition(task));
        break;
      } catch (err) {
        if (!(insertInterrupted && isCancellation(err))) throw err;
      } finally {
        insertScope = undefined;
      }
    }
    await startStep('validate');
    const validate = await steps.validateShadow(task);
    await startStep('swap');
    const { swap, cleanup } = await CancellationScope.nonCancellable(async () => ({
      swap: await steps.swapPartition(task),
      cleanup: await quickSteps.dropShadow(task),
    }));
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
    await CancellationScope.nonCancellable(() => quickSteps.dropShadow(task));
    throw err;
  }
}
