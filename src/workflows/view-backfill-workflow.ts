import {
  ApplicationFailure,
  CancellationScope,
  condition,
  isCancellation,
  log,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  sleep,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { PartitionPlan, ViewPartitionTask } from '../shared/backfill-results';
import { innermostMessage } from '../shared/failure-message';
import { FailureType } from '../shared/failure-types';
import { assessLoad } from '../shared/load-thresholds';
import { partitionStepSignal, pauseSignal, progressQuery, resumeSignal, type PauseRequest } from '../shared/messages';
import { initialProgress, type PartitionProgress } from '../shared/progress';
import type { ViewBackfillInputRaw, ViewBackfillSummary } from '../shared/view-input';
import { shadowTableFor, writerTag } from '../shared/writer-tables';
import { BackfillPause } from './backfill-pause';
import { applyStepReport } from './partition-progress';
import { startPartitionWriter, type PartitionWriter } from './partition-writer';

const { planViewBackfill, createViewAndTarget, listViewPartitions } = proxyActivities<Activities>({
  startToCloseTimeout: '1h',
  heartbeatTimeout: '20s',
  retry: { initialInterval: '1s', maximumInterval: '30s', maximumAttempts: 10 },
});

const { checkClusterLoad, resolveViewBackfillInput } = proxyLocalActivities<Activities>({
  startToCloseTimeout: '1m',
  retry: { initialInterval: '1s', maximumInterval: '30s', maximumAttempts: 10 },
});

const isoOf = (seconds: number): string => new Date(seconds * 1000).toISOString().replace('.000Z', 'Z');

/**
 * Adds a materialized view to a table that already holds data (the ClickHouse guide's scenario 2), durably:
 * 1. plans: checks the job against source, target and an existing view before any DDL, and fixes the cutoff (a
 *    minute or so ahead), recorded in this workflow's history;
 * 2. creates the target if missing and the view with `WHERE <time> >= cutoff`: from then on the view writes every
 *    new row from the cutoff on;
 * 3. waits on a durable timer until the cutoff (plus `latenessSeconds`) has passed;
 * 4. fills everything before the cutoff, one target partition at a time (one `all` partition for an unpartitioned
 *    target), through the partition's one writer (src/workflows/partition-writer.ts) with a `view-fill` build: the
 *    view's SELECT into the writer's `_v2` shadow, validated against the source, then appended to the live target
 *    with `MOVE PARTITION` (the live view writes the same partitions, so nothing is replaced).
 *
 * Messages: `pause {reason, now?}` / `resume` (no partition and no step starts while paused), query `progress`
 * (phase, cutoff, per partition state and step). Before each partition the cluster's load is checked against
 * `job.load` and the backfill waits while it is over a threshold.
 *
 * Durability: the input, the plan (with the cutoff) and every partition's completion are in history; after a
 * crash the workflow resumes where it stood. Each partition's rows land exactly once: the fill may be redone only
 * before its move was scheduled, and a retried move finds the shadow empty (see src/activities/view-steps.ts).
 * Cancellation cancels the running partitions (each drops its shadow; one already moving completes); the view
 * stays, and the partitions not moved are simply missing from the target.
 */
export async function viewBackfillWorkflow(raw: ViewBackfillInputRaw): Promise<ViewBackfillSummary> {
  const { job } = await resolveViewBackfillInput(raw);
  const { workflowId, firstExecutionRunId } = workflowInfo();
  const tag = writerTag(workflowId, firstExecutionRunId);
  const progress = initialProgress(job.parallelism);
  const running = new Map<string, PartitionWriter>();
  const pause = new BackfillPause((progress.pause = {}), (request: PauseRequest | undefined) => {
    for (const child of running.values()) {
      const sent = request ? child.signal(pauseSignal, request) : child.signal(resumeSignal);
      sent.catch(() => undefined);
    }
  });
  setHandler(progressQuery, () => ({
    ...progress,
    phase: progress.phase === 'running' && pause.paused ? 'paused' : progress.phase,
  }));
  setHandler(pauseSignal, (request = {}) =>
    pause.set('manual', request.reason ?? 'paused by an operator', request.now),
  );
  setHandler(resumeSignal, () => pause.set('manual', undefined));
  const byId = new Map<string, PartitionProgress>();
  setHandler(partitionStepSignal, (report) => applyStepReport(byId.get(report.partition), report));

  const plan = await planViewBackfill({ job });
  const { cutoff } = plan;
  progress.target = `${plan.target.database}.${plan.target.name}`;
  progress.cutoff = isoOf(cutoff);
  await createViewAndTarget({ job, cutoff });
  log.info('view in place; waiting for the cutoff', { cutoff: progress.cutoff });

  progress.phase = 'waiting';
  const waitMs = (cutoff + job.latenessSeconds) * 1000 - Date.now();
  if (waitMs > 0) await sleep(waitMs);

  const partitions = await listViewPartitions({ job, cutoff });
  progress.phase = 'running';
  progress.total = partitions.length;
  progress.partitions = partitions.map((p) => ({ id: p.id, state: 'pending', salt: 1, sourceRows: p.sourceRows }));
  for (const entry of progress.partitions) byId.set(entry.id, entry);

  const taskFor = (partition: PartitionPlan): ViewPartitionTask => ({
    job,
    source: plan.source,
    target: plan.target,
    shadow: shadowTableFor(plan.target, partition.id, tag),
    partition,
    build: { kind: 'view-fill', cutoff },
    swap: 'append',
  });

  const waitForCalm = async (): Promise<void> => {
    if (!job.load.enabled) return;
    for (;;) {
      const verdict = assessLoad(await checkClusterLoad({ source: plan.source, target: plan.target }), job.load);
      if (!verdict.overloaded) break;
      progress.lastLoadReason = verdict.reason;
      pause.set('load', verdict.reason);
      await sleep(job.load.checkIntervalSeconds * 1000);
    }
    pause.set('load', undefined);
  };

  let active = 0;
  const runPartition = async (partition: PartitionPlan, entry: PartitionProgress): Promise<void> => {
    active++;
    entry.state = 'running';
    entry.startedAt = Date.now();
    entry.step = 'prepare';
    try {
      const child = await startPartitionWriter(taskFor(partition), job.safety, (holder) => {
        entry.state = 'waiting';
        entry.waitingFor = holder;
      });
      entry.state = 'running';
      entry.waitingFor = undefined;
      running.set(partition.id, child);
      if (pause.paused) child.signal(pauseSignal, { reason: pause.reason }).catch(() => undefined);
      entry.result = await child.result();
      entry.state = 'swapped';
      progress.done++;
      progress.rowsRead += entry.result.rowsRead;
      progress.rowsWritten += entry.result.rowsWritten;
    } catch (err) {
      if (isCancellation(err) && CancellationScope.current().consideredCancelled) entry.state = 'cancelled';
      else {
        entry.state = 'failed';
        entry.error = innermostMessage(err);
        progress.failed++;
      }
    } finally {
      entry.step = undefined;
      entry.finishedAt = Date.now();
      running.delete(partition.id);
      active--;
    }
  };

  const inFlight: Promise<void>[] = [];
  try {
    for (const [i, entry] of progress.partitions.entries()) {
      const ready = () => active < progress.parallelism && !pause.paused;
      await condition(ready);
      await waitForCalm();
      await condition(ready);
      inFlight.push(runPartition(partitions[i], entry));
    }
    await Promise.all(inFlight);
  } catch (err) {
    if (isCancellation(err)) {
      await CancellationScope.nonCancellable(() => Promise.all(inFlight));
      progress.phase = 'cancelled';
    }
    throw err;
  }

  const summary: ViewBackfillSummary = {
    workflowId,
    target: progress.target,
    view: `${plan.view.database}.${plan.view.name}`,
    cutoff: progress.cutoff,
    from: '',
    to: progress.cutoff,
    partitions: progress.partitions.flatMap((p) => (p.result ? [p.result] : [])),
    failed: progress.partitions.flatMap((p) => (p.error ? [{ partition: p.id, error: p.error }] : [])),
    rowsRead: progress.rowsRead,
    rowsWritten: progress.rowsWritten,
    elapsedMs: Date.now() - progress.startedAt,
  };
  if (summary.failed.length > 0) {
    progress.phase = 'failed';
    throw ApplicationFailure.create({
      message:
        `${summary.failed.length} of ${progress.total} partitions failed: ` +
        summary.failed.map((f) => `${f.partition} (${f.error})`).join('; '),
      type: FailureType.PartitionsFailed,
      nonRetryable: true,
      details: [summary],
    });
  }
  progress.phase = 'completed';
  log.info('view backfill completed', { partitions: summary.partitions.length, cutoff: summary.cutoff });
  return summary;
}
