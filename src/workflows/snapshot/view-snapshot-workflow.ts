import {
  ActivityCancellationType,
  ApplicationFailure,
  CancellationScope,
  CancelledFailure,
  ContinueAsNew,
  condition,
  isCancellation,
  log,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
} from '@temporalio/workflow';
import type { Activities } from '../../activities';
import type { PartitionPlan } from '../../shared/backfill-results';
import { confirmSignal, confirmUpdate } from '../../shared/messages';
import { pendingPartitions, type SnapshotProgress } from '../../shared/progress';
import type { SnapshotPlan, ViewSnapshotSummary } from '../../shared/snapshot-input';
import type { ViewBackfillInput, ViewBackfillInputRaw } from '../../shared/view-input';
import { viewPartitionTask } from '../../shared/view-partition-task';
import { heartbeatOptions } from '../engine/heartbeat-options';
import { confirmRefusal, refuseIf } from '../engine/operator-refusals';
import { JOB_ACTIVITY_OPTIONS, JOB_LOCAL_ACTIVITY_OPTIONS, jobLoopOptions, startJobRun } from '../engine/job-run';
import type { LoopCarry } from '../engine/partition-loop';
import { qualifiedName } from '../../shared/table-ref';
import { isoOfEpochSeconds } from '../../shared/epoch-seconds';
import { continueOntoCurrentBuild } from '../engine/continue-onto-current-build';

const { planViewSnapshot, createSnapshotView, listSnapshotPartitions, dropSnapshot } =
  proxyActivities<Activities>(JOB_ACTIVITY_OPTIONS);

// The snapshot runs outside cancellation (see below); should it ever be cancelled, the workflow waits until it has
// stopped before it drops the snapshot, so no attempt attaches into a table dropped under it.
const { snapshotSource } = proxyActivities<Activities>({
  ...JOB_ACTIVITY_OPTIONS,
  cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
});

const { resolveViewBackfillInput } = proxyLocalActivities<Activities>(JOB_LOCAL_ACTIVITY_OPTIONS);

/** What a snapshot job hands to its next run when it continues as new: the snapshot and view exist by then. */
export interface ViewSnapshotCarry extends LoopCarry {
  input: ViewBackfillInput;
  plan: SnapshotPlan;
}

/**
 * Adds a materialized view to a table without a usable time column (the ClickHouse guide's last scenario, a
 * `kind: view` job with `cutoff: snapshot`), durably:
 * 1. plans: the view job's checks before any DDL, plus a MergeTree source, no view of that name yet and an empty
 *    target; names the snapshot `<source>_snapshot_<writer tag>`;
 * 2. waits, for days if need be, for the operator's `confirm` (a signal, or an Update refused when no confirm is
 *    awaited and answered once the snapshot was tried): inserts into the source are paused
 *    (`progress.snapshot.state` `awaiting-confirm`);
 * 3. takes the snapshot (`CREATE TABLE … AS` + `ATTACH PARTITION … FROM` each partition, hard links), checking the
 *    source's rows did not change meanwhile;
 * 4. creates the target if missing and the view over every row (no cutoff: it sees every row inserted from now on),
 *    if the source still holds exactly the snapshot's rows; then `snapshot.state` is `inserts-may-resume` and a
 *    log line says so. When rows kept arriving in 3 or 4, nothing is created, the reason is shown, and the
 *    workflow waits for another `confirm`;
 * 5. fills the target from the snapshot, one target partition at a time, through the partition's one writer with
 *    the view job's `view-fill` build (the whole snapshot, no cutoff) and `append` swap, validated against the
 *    snapshot, via the shared partition loop (pause/resume, setParallelism, load checks, continue-as-new);
 * 6. drops the snapshot.
 *
 * Durability: the plan, the confirm, the snapshot's and the view's outcomes and every partition's completion are
 * in history. The snapshot is taken exactly once by one idempotent activity (each attempt starts from an empty
 * table), the view is created `IF NOT EXISTS`, and each partition's rows land once (see viewBackfillWorkflow). The
 * snapshot and the view run outside cancellation; a cancel arriving meanwhile takes effect after the snapshot and
 * before the view (nothing created), or after the view. On a cancel the running partitions stop and the snapshot
 * is dropped; the view stays, and the partitions not moved are missing from the target. When partitions fail the
 * snapshot is kept (named in `progress` and the failure's summary) so they can still be filled from it.
 */
export async function viewSnapshotWorkflow(
  raw: ViewBackfillInputRaw,
  carried?: ViewSnapshotCarry,
): Promise<ViewSnapshotSummary> {
  const input = carried?.input ?? (await resolveViewBackfillInput(raw));
  const { job } = input;
  const { workflowId, tag, loop, progress } = startJobRun(job.parallelism, carried?.progress);
  let confirmed = false;
  setHandler(confirmSignal, () => void (confirmed = true));
  // The Update (accepted only while `progress.snapshot` awaits a confirm) answers once the job tried the snapshot
  // this confirm asked for: taken and the view created, or rows kept arriving.
  setHandler(
    confirmUpdate,
    async () => {
      const asked = progress.snapshot;
      if (!asked) throw ApplicationFailure.create({ message: 'nothing to confirm yet', nonRetryable: true });
      const attempts = asked.attempts;
      confirmed = true;
      await condition(() => asked.attempts > attempts && asked.state !== 'snapshotting');
      return { ...asked };
    },
    { validator: () => refuseIf(confirmRefusal(progress.phase, progress.snapshot, confirmed)) },
  );

  let plan: SnapshotPlan;
  let partitions: PartitionPlan[] = [];
  let snapshot: SnapshotProgress;
  if (carried?.progress.snapshot) {
    plan = carried.plan;
    partitions = loop.resume(carried.partitions);
    snapshot = carried.progress.snapshot;
  } else {
    plan = await planViewSnapshot({ job, tag });
    progress.target = qualifiedName(plan.target);
    snapshot = progress.snapshot = {
      state: 'awaiting-confirm',
      source: qualifiedName(plan.source),
      table: qualifiedName(plan.snapshot),
      attempts: 0,
    };
  }
  const drop = async (): Promise<void> => {
    await CancellationScope.nonCancellable(() => dropSnapshot({ plan }));
    snapshot.state = 'dropped';
  };

  try {
    if (snapshot.state !== 'inserts-may-resume') {
      progress.phase = 'waiting';
      log.info('waiting for confirm: pause inserts into the source', { source: snapshot.source });
      for (;;) {
        await condition(() => confirmed);
        snapshot.state = 'snapshotting';
        snapshot.attempts++;
        progress.phase = 'running';
        const taken = await CancellationScope.nonCancellable(() =>
          snapshotSource.executeWithOptions(heartbeatOptions(job.safety), [{ job, plan }]),
        );
        if (CancellationScope.current().consideredCancelled) {
          throw new CancelledFailure('cancelled while the snapshot was taken: no view was created');
        }
        const created = taken.ok
          ? await CancellationScope.nonCancellable(() => createSnapshotView({ job, plan, rows: taken.rows }))
          : taken;
        if (created.ok) {
          snapshot.rows = created.rows;
          break;
        }
        confirmed = false;
        snapshot.state = 'awaiting-confirm';
        snapshot.retryReason = created.reason;
        progress.phase = 'waiting';
        log.warn('nothing created: rows kept arriving; waiting for another confirm', { reason: created.reason });
      }
      snapshot.state = 'inserts-may-resume';
      snapshot.insertsMayResumeAt = Date.now();
      log.info(`inserts into ${snapshot.source} may resume`, { view: qualifiedName(plan.view), rows: snapshot.rows });

      partitions = await listSnapshotPartitions({ job, plan });
      progress.total = partitions.length;
      progress.partitions = pendingPartitions(partitions);
    }

    await loop.run({
      partitions,
      // The fill reads the snapshot, all of it: no cutoff.
      taskFor: (partition) =>
        viewPartitionTask(
          job,
          { source: plan.snapshot, target: plan.target, server: plan.server },
          partition,
          tag,
          undefined,
        ),
      ...jobLoopOptions(job, plan),
      continueAsNew: (carry) => continueOntoCurrentBuild<typeof viewSnapshotWorkflow>(raw, { input, plan, ...carry }),
    });
  } catch (err) {
    // Before the view exists nothing needs the snapshot, and a cancel gives the job up; a failure after the view
    // keeps it (the target can still be filled from it); a continue-as-new carries it to the next run.
    if (isCancellation(err) || snapshot.state !== 'inserts-may-resume') {
      await drop();
      if (isCancellation(err)) progress.phase = 'cancelled';
    } else if (!(err instanceof ContinueAsNew)) snapshot.state = 'kept';
    throw err;
  }

  const outcome = loop.outcome();
  if (outcome.failed.length === 0) await drop();
  else {
    snapshot.state = 'kept';
    log.warn('partitions failed: the snapshot is kept to fill them from', { snapshot: snapshot.table });
  }
  const summary = loop.close<ViewSnapshotSummary>({
    workflowId,
    target: qualifiedName(plan.target),
    view: qualifiedName(plan.view),
    snapshot: snapshot.table,
    snapshotRows: snapshot.rows ?? 0,
    insertsMayResumeAt: isoOfEpochSeconds(Math.floor((snapshot.insertsMayResumeAt ?? 0) / 1000)),
    from: '',
    to: '',
    ...outcome,
  });
  log.info('view snapshot backfill completed', { partitions: summary.partitions.length, view: summary.view });
  return summary;
}
