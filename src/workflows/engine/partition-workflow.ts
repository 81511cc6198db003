import {
  ActivityCancellationType,
  ApplicationFailure,
  CancellationScope,
  condition,
  getExternalWorkflowHandle,
  isCancellation,
  metricMeter,
  patched,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../../activities';
import { partitionMetrics } from '../../shared/backfill-metrics';
import type { PartitionResult, PartitionStep } from '../../shared/backfill-results';
import { innermostFailureType, innermostMessage } from '../../shared/failure-message';
import { shardedPartitionId } from '../../shared/partition-lock';
import { FailureType } from '../../shared/failure-types';
import {
  approveSignal,
  approveUpdate,
  partitionStepSignal,
  pauseSignal,
  rejectSignal,
  rejectUpdate,
  resumeSignal,
  type PartitionRef,
  type PauseRequest,
} from '../../shared/messages';
import { refuseIf } from './operator-refusals';
import { heartbeatOptions } from './heartbeat-options';
import { partitionKindFacts } from './partition-kind-facts';
import { PartitionControl } from './partition-control';
import { buildStepsSummary, stepSummary } from './step-summaries';
import type { PartitionTask } from '../../shared/partition-task';
import type { PartitionActivity, ShrinkReport } from '../../shared/progress';
import { qualifiedName } from '../../shared/table-ref';
import { swapPriority } from '../../shared/task-priority';

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

// Validation only reads: as a local activity it runs inside the workflow task that also schedules the next step,
// which spares a server round trip per partition. A worker dying during it loses nothing but the reads: the next
// worker runs it again from the start. No heartbeat, so the timeout bounds the longest full validation.
const readSteps = proxyLocalActivities<Activities>({
  startToCloseTimeout: '2h',
  retry,
});

// The swap tried once in the workflow task that learns of the build's (or backup's) result, the shadow's drop after
// it: a partition's writer then needs two workflow tasks and one activity task instead of three and two. A failed try
// goes to the swap activity, retried as before (and shown as pending, with its attempts). A crash during the try
// re-runs it on replay: the shadow is intact until the drop, so a repeated swap gives the same target, and the ledger
// row is keyed by the run. A try longer than a workflow task timeout keeps the task alive by heartbeats.
const swapOnce = proxyLocalActivities<Activities>({
  startToCloseTimeout: '2h',
  retry: { maximumAttempts: 1 },
});

// A cancelled build (pause --now) is waited for until the activity has stopped its query, so the redo never runs
// next to its predecessor.
const buildStep = proxyActivities<Activities>({
  startToCloseTimeout: '24h',
  heartbeatTimeout: '20s',
  cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
  retry,
});

/**
 * The one writer of one target partition. Its workflow id is the partition's lock
 * (`partition:<database>.<table>/<partition>`, see src/shared/partition-lock.ts): every job kind (backfill, daily
 * run, rollback) starts it as a child under that id, and Temporal refuses a second running workflow with it.
 *
 * Steps: a fresh shadow (this writer's own table), the build (a rebuilt partition, a rebuilt day, or a restored
 * backup) and its validation, all three in one activity (`buildValidatedShadow`); the shrink guard (a partition
 * losing more than `maxShrink` of its live rows waits for an `approve` or `reject` signal or Update, the Updates
 * refused while it does not wait or once answered); a backup of the live
 * partition (hard links, for rollback); the swap (`REPLACE PARTITION`, or `DROP PARTITION` when the shadow holds
 * nothing) with a check of the result, recorded in the job's ledger by the same activity
 * (src/activities/engine/ledger.ts); the shadow dropped.
 * The parent shows the partition building from its start, and is told (signal `partitionStep`) when the partition
 * pauses or awaits approval, and which step follows either, so its `progress` shows them; the short steps after the
 * build are not reported (each report costs the parent and this workflow a workflow task).
 *
 * Pause: on `pause` no further step starts until `resume`; `pause` with `now` also cancels a running build and
 * waits until its query has stopped; the build is redone from a fresh shadow after the resume.
 *
 * A view job's partition (`swap: 'append'`) and an import batch (`swap: 'move-all'`: duplicates of the main table
 * and of every view target, filled through copies of the views) are appended with `MOVE PARTITION` instead; they
 * take no shrink guard and no backup.
 *
 * Durability: each step is an idempotent activity, so after a crash the workflow resumes at the first step not
 * recorded as complete and repeats it safely. Validation's result comes with the build's, so the backup and the
 * swap are scheduled only once it is in history (histories from before this had a local validation activity,
 * recorded with the workflow task that schedules them). The swap is tried once as a local activity in the task that
 * learns of the step before it (a crash re-runs it on replay: it is idempotent), then, if that try failed, as the
 * retried `swapPartition` activity. The target changes only in the swap, atomically. On a
 * failure, rejection or cancellation before the swap the shadow is dropped and the target keeps what it had; once
 * the swap has started, a cancellation no longer interrupts it and the workflow completes. An import batch that fails
 * once its moves began keeps its duplicates (`MoveIncomplete`): they hold what the live tables still lack.
 *
 * Metrics (src/shared/backfill-metrics.ts): on completion the rows read and written and the partition swapped (and
 * emptied); on a failure the partition failed, labelled with the failure type. Each step carries a summary
 * (`insert 202401 · salt 3`) for the Web UI's timeline.
 */
export async function partitionWorkflow(task: PartitionTask): Promise<PartitionResult> {
  const control = new PartitionControl();
  setHandler(pauseSignal, (request: PauseRequest = {}) => control.pause(request));
  setHandler(resumeSignal, () => control.resume());
  setHandler(approveSignal, () => control.decide('approve'));
  setHandler(rejectSignal, () => control.decide('reject'));
  // As Updates, refused unless the partition awaits an answer (a daily run's partition is answered this way).
  // What the parent knows the partition as: its id, or on a sharded cluster `<id>@<shard>`.
  const partitionId = shardedPartitionId(task.partition.id, task.server?.shard?.num);
  const answer =
    (decision: 'approve' | 'reject') =>
    (_ref?: PartitionRef): string => {
      control.decide(decision);
      return decision === 'approve'
        ? `approved ${partitionId}: it is swapped in next`
        : `rejected ${partitionId}: it fails and the live partition keeps what it had`;
    };
  const validator = (_ref?: PartitionRef) => refuseIf(control.answerRefusal(partitionId));
  setHandler(approveUpdate, answer('approve'), { validator });
  setHandler(rejectUpdate, answer('reject'), { validator });

  const parent = workflowInfo().parent;
  const metrics = partitionMetrics(metricMeter, qualifiedName(task.target));
  // Call-site options: the step's summary, which the Web UI shows in the timeline; the steps that heartbeat also
  // take the job's heartbeat timeout.
  const about = (step: PartitionStep) => ({ summary: stepSummary(task, step) });
  const beating = (step: PartitionStep) => ({ ...about(step), ...heartbeatOptions(task.job.safety) });
  const report = (step: PartitionActivity, shrink?: ShrinkReport): void => {
    if (!parent) return;
    // Best effort: a progress report must never fail the partition.
    getExternalWorkflowHandle(parent.workflowId)
      .signal(partitionStepSignal, { partition: partitionId, step, at: Date.now(), shrink })
      .catch(() => undefined);
  };
  const generation = codeGeneration();
  // After an operator's answer the next step is reported, so `progress` no longer shows the partition awaiting it.
  let answered = false;
  const startStep = async (step: PartitionActivity): Promise<void> => {
    const paused = control.paused;
    if (paused) {
      report('paused');
      await condition(() => !control.paused);
    }
    // The parent marks a partition as building when it starts it: that first report would only cost two tasks.
    const worthReporting =
      generation === CURRENT ? paused || answered : olderWorthReporting(generation, step, paused, answered);
    answered = false;
    if (worthReporting) report(step);
  };

  // An import batch that began moving keeps its duplicates on a failure: some live tables may already hold the
  // batch, and what the others lack is still in their duplicates (a retried move would finish it).
  let moving = false;
  try {
    // The build, redone from the start when `pause --now` interrupts it.
    const interruptibleBuild = async <T>(build: () => Promise<T>): Promise<T> => {
      for (;;) {
        await startStep('insert');
        const scope = new CancellationScope();
        control.enterInterruptible(() => scope.cancel());
        try {
          return await scope.run(build);
        } catch (err) {
          if (!(control.interrupted && isCancellation(err))) throw err;
        } finally {
          control.leaveInterruptible();
        }
      }
    };
    const { prepare, build, validate } =
      generation === CURRENT
        ? await interruptibleBuild(() =>
            buildStep.buildValidatedShadow.executeWithOptions(
              { summary: buildStepsSummary(task), ...heartbeatOptions(task.job.safety) },
              [task],
            ),
          )
        : await olderBuild(generation, task, startStep, interruptibleBuild);
    if (control.needsApproval(task.maxShrink, validate.liveRows, validate.shadowRows)) {
      report('awaiting-approval', { liveRows: validate.liveRows, newRows: validate.shadowRows });
      control.awaitingApproval = true;
      await condition(() => control.decision !== undefined);
      control.awaitingApproval = false;
      answered = true;
      if (control.decision === 'reject') {
        throw ApplicationFailure.create({
          message:
            `partition ${partitionId} rejected by an operator: it would shrink from ` +
            `${validate.liveRows} to ${validate.shadowRows} rows; the live partition is unchanged`,
          type: FailureType.ShrinkRejected,
          nonRetryable: true,
        });
      }
    }
    // An empty live partition needs no backup: rolling it back means emptying it again.
    let backup;
    if (task.backup && validate.liveRows > 0) {
      await startStep('backup');
      backup = await steps.backupPartition.executeWithOptions(beating('backup'), [task]);
    }
    await startStep('swap');
    moving = partitionKindFacts(task).keepsDuplicatesOnFailure;
    // The swap records itself in the job's ledger: who swapped, and what the build read of the source.
    const context = { writer: parent?.workflowId ?? workflowInfo().workflowId, build, rowsRead: validate.rowsRead };
    const swapArgs = [
      task,
      generation === 'original' ? context : { ...context, validatedRows: validate.shadowRows },
    ] as const;
    // A built partition swaps ahead of the history fills still building (it holds the partition's lock).
    const swapActivity = () =>
      steps.swapPartition.executeWithOptions({ ...beating('swap'), priority: swapPriority(workflowInfo().priority) }, [
        ...swapArgs,
      ]);
    const { swap, cleanup } = await CancellationScope.nonCancellable(async () => ({
      swap: patched('local-swap')
        ? await swapOnce.swapPartition.executeWithOptions(about('swap'), [...swapArgs]).catch(swapActivity)
        : await swapActivity(),
      cleanup: await quickSteps.dropShadow.executeWithOptions(about('cleanup'), [task]),
    }));
    metrics.rowsRead.add(validate.rowsRead);
    metrics.rowsWritten.add(build.rowsWritten);
    metrics.swapped.add(1);
    if (swap.action === 'dropped') metrics.emptied.add(1);
    return {
      partition: partitionId,
      salt: task.partition.salt,
      rowsRead: validate.rowsRead,
      rowsWritten: build.rowsWritten,
      rowsBefore: validate.liveRows,
      emptied: swap.action === 'dropped',
      backupRows: task.backup ? (backup?.backupRows ?? 0) : undefined,
      checks: validate.checks,
      stepMs: {
        prepare: prepare.durationMs,
        insert: build.durationMs,
        validate: validate.durationMs,
        backup: backup?.durationMs,
        swap: swap.durationMs,
        cleanup: cleanup.durationMs,
      },
    };
  } catch (err) {
    if (!isCancellation(err)) metrics.failed.add(1, { reason: innermostFailureType(err) });
    if (moving) {
      throw ApplicationFailure.create({
        message:
          `batch ${task.partition.id} failed once its move into the live tables had begun; its duplicates are ` +
          `kept (each holds what its live table still lacks): ${innermostMessage(err)}`,
        type: FailureType.MoveIncomplete,
        nonRetryable: true,
      });
    }
    await CancellationScope.nonCancellable(() => quickSteps.dropShadow.executeWithOptions(about('cleanup'), [task]));
    throw err;
  }
}

// The older generations of this workflow's code, kept only so that histories recorded by them replay. Each is
// listed in the patch register (docs/architecture.md#patch-register) with the recordings that cover it and when it
// may go.

/** Which generation of this workflow's code a run takes: the newest, unless its history was recorded earlier. */
type Generation = 'one-build-activity' | 'fewer-round-trips' | 'original';
const CURRENT: Generation = 'one-build-activity';

/**
 * `fewer-round-trips`: since then a partition reports only the steps worth reporting and validates in a local
 * activity; `one-build-activity`: since then one activity prepares, builds and validates the shadow, and the parent
 * shows the partition building from its start (src/workflows/engine/partition-loop-state.ts).
 */
function codeGeneration(): Generation {
  if (!patched('fewer-round-trips')) return 'original';
  return patched('one-build-activity') ? 'one-build-activity' : 'fewer-round-trips';
}

/** Which steps an older generation reported to the parent. */
function olderWorthReporting(generation: Generation, step: PartitionActivity, paused: boolean, answered: boolean) {
  return generation === 'fewer-round-trips' ? step === 'insert' || paused || answered : step !== 'prepare' || paused;
}

/** An older generation's prepare, build and validation: three activities, each reported to the parent. */
async function olderBuild(
  generation: Generation,
  task: PartitionTask,
  startStep: (step: PartitionActivity) => Promise<void>,
  interruptibleBuild: <T>(build: () => Promise<T>) => Promise<T>,
) {
  const about = (step: PartitionStep) => ({ summary: stepSummary(task, step) });
  await startStep('prepare');
  const prepare = await quickSteps.prepareShadow.executeWithOptions(about('prepare'), [task]);
  const build = await interruptibleBuild(() =>
    buildStep.buildShadow.executeWithOptions({ ...about('insert'), ...heartbeatOptions(task.job.safety) }, [task]),
  );
  await startStep('validate');
  const validateSteps = generation === 'original' ? steps : readSteps;
  const validate = await validateSteps.validateShadow.executeWithOptions(about('validate'), [task]);
  return { prepare, build, validate };
}
