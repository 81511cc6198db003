import {
  ApplicationFailure,
  condition,
  executeChild,
  log,
  proxyActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import { backfillInputSchema, type BackfillInputRaw } from '../shared/backfill-input';
import type { BackfillPlan, BackfillSummary, PartitionPlan, PartitionTask } from '../shared/backfill-results';
import type { AggregateJob } from '../shared/job-spec';
import { progressQuery, type BackfillProgress, type PartitionProgress } from '../shared/progress';
import { parseInput } from './parse-input';
import { backfillPartitionWorkflow } from './partition-workflow';

const { planBackfill } = proxyActivities<Activities>({
  startToCloseTimeout: '2h',
  heartbeatTimeout: '20s',
  retry: { initialInterval: '1s', maximumInterval: '30s', maximumAttempts: 10 },
});

/** The innermost message of a failure chain: for a failed child, the activity's own words. */
function rootMessage(err: unknown): string {
  let e = err as { message?: string; cause?: unknown } | undefined;
  while (e?.cause) e = e.cause as typeof e;
  return e?.message ?? String(err);
}

function partitionTask(job: AggregateJob, plan: BackfillPlan, partition: PartitionPlan): PartitionTask {
  return {
    job,
    source: plan.source,
    target: plan.target,
    shadow: { database: plan.target.database, name: `${plan.target.name}_v2_${partition.id}` },
    partition,
  };
}

/**
 * Backfills the target partition by partition: plans the range, then runs one child workflow per partition
 * (`<workflowId>/<partition>`), at most `job.parallelism` at a time, and returns a summary.
 *
 * Durability: the plan and every child's completion are recorded in history, so after any crash the backfill
 * resumes with the partitions not yet swapped. A failed partition does not stop the others; the workflow then
 * fails with every failed partition named, and the summary in the failure's details.
 */
export async function backfillWorkflow(raw: BackfillInputRaw): Promise<BackfillSummary> {
  const { job, from, to } = parseInput(backfillInputSchema, raw, 'backfillWorkflow');
  const { workflowId } = workflowInfo();
  const progress: BackfillProgress = {
    phase: 'planning',
    partitions: [],
    done: 0,
    failed: 0,
    total: 0,
    rowsWritten: 0,
    startedAt: Date.now(),
  };
  setHandler(progressQuery, () => progress);

  const plan = await planBackfill({ job, from, to });
  progress.phase = 'running';
  progress.target = `${plan.target.database}.${plan.target.name}`;
  progress.total = plan.partitions.length;
  progress.partitions = plan.partitions.map((p): PartitionProgress => ({
    id: p.id,
    state: 'pending',
    salt: p.salt,
    sourceRows: p.sourceRows,
  }));
  log.info('backfill planned', { target: progress.target, partitions: progress.total, from, to });

  let running = 0;
  const runPartition = async (partition: PartitionPlan, entry: PartitionProgress): Promise<void> => {
    entry.state = 'running';
    try {
      entry.result = await executeChild(backfillPartitionWorkflow, {
        workflowId: `${workflowId}/${partition.id}`,
        args: [partitionTask(job, plan, partition)],
      });
      entry.state = 'swapped';
      progress.done++;
      progress.rowsWritten += entry.result.rowsWritten;
      log.info('partition done', { partition: partition.id, rows: entry.result.rowsWritten });
    } catch (err) {
      entry.state = 'failed';
      entry.error = rootMessage(err);
      progress.failed++;
      log.warn('partition failed', { partition: partition.id, error: entry.error });
    } finally {
      running--;
    }
  };

  const children: Promise<void>[] = [];
  for (const [i, partition] of plan.partitions.entries()) {
    await condition(() => running < job.parallelism);
    running++;
    children.push(runPartition(partition, progress.partitions[i]));
  }
  await Promise.all(children);

  const results = progress.partitions.flatMap((p) => (p.result ? [p.result] : []));
  const summary: BackfillSummary = {
    workflowId,
    target: progress.target,
    from,
    to,
    partitions: results,
    failed: progress.partitions.flatMap((p) => (p.error ? [{ partition: p.id, error: p.error }] : [])),
    rowsRead: results.reduce((n, r) => n + r.rowsRead, 0),
    rowsWritten: progress.rowsWritten,
    elapsedMs: Date.now() - progress.startedAt,
  };
  if (summary.failed.length > 0) {
    progress.phase = 'failed';
    throw ApplicationFailure.create({
      message:
        `${summary.failed.length} of ${progress.total} partitions failed: ` +
        summary.failed.map((f) => `${f.partition} (${f.error})`).join('; '),
      type: 'PartitionsFailed',
      nonRetryable: true,
      details: [summary],
    });
  }
  progress.phase = 'completed';
  log.info('backfill completed', { partitions: results.length, rowsWritten: summary.rowsWritten });
  return summary;
}
