import { randomUUID } from 'node:crypto';
import { WorkflowFailedError, type Client } from '@temporalio/client';
import { TimeoutFailure } from '@temporalio/common';
import { backfillInputSchema, type BackfillInput } from '../shared/backfill-input';
import { importInputSchema, type ImportInput } from '../shared/import-input';
import { describeIssues } from '../shared/input-errors';
import { partitionsCovering } from '../shared/partitions';
import { viewBackfillInputSchema, type ViewBackfillInput } from '../shared/view-input';
import type {
  backfillWorkflow,
  describeImportWorkflow,
  describeViewBackfillWorkflow,
  importWorkflow,
  viewBackfillWorkflow,
  viewSnapshotWorkflow,
} from '../workflows';
import { CliError } from './cli-error';
import { taskQueueFromEnv } from './temporal-client';

/**
 * Starts a backfill with every default of its input applied here, where the input enters, so the workflow's
 * history holds the complete input. Overlapping backfills need no check here: each partition is written under
 * its own lock (the partition workflow's id), so a partition another backfill holds simply waits.
 */
export async function startBackfill(client: Client, raw: unknown, workflowId: string) {
  const parsed = backfillInputSchema.safeParse(raw);
  if (!parsed.success) throw new CliError(`invalid backfill input:\n${describeIssues(parsed.error)}`);
  const input: BackfillInput = parsed.data;
  return client.workflow.start<typeof backfillWorkflow>('backfillWorkflow', {
    taskQueue: taskQueueFromEnv(),
    workflowId,
    args: [input],
    staticSummary: `backfill ${input.job.target.table} ${input.from} … ${input.to}`,
    staticDetails: backfillDetails(input),
  });
}

/** What the Web UI shows under the backfill's summary: target, range, partitions and the job, one per line. */
function backfillDetails(input: BackfillInput): string {
  const ids = input.partitions ?? partitionsCovering(input.from, input.to, input.job.partitionBy).map((p) => p.id);
  const shown = ids.length > 12 ? [...ids.slice(0, 6), '…', ...ids.slice(-6)] : ids;
  return [
    `target: ${input.job.target.table} (from ${input.job.source.table})`,
    `range: ${input.from} … ${input.to}, ${ids.length} ${input.job.partitionBy} partitions: ${shown.join(' ')}`,
    `job: kind ${input.job.kind}${input.job.name ? `, ${input.job.name}` : ''}, parallelism ${input.job.parallelism}` +
      `, validation ${input.job.validation.mode}${input.allowShrink ? ', shrinks allowed' : ''}`,
  ].join('\n');
}

/** A view job's workflow input, every default applied; bad input refused naming each field. */
function parseViewInput(raw: unknown): ViewBackfillInput {
  const parsed = viewBackfillInputSchema.safeParse(raw);
  if (!parsed.success) throw new CliError(`invalid view backfill input:\n${describeIssues(parsed.error)}`);
  return parsed.data;
}

/**
 * Starts a view backfill (`kind: view`) with every default of its input applied here, as {@link startBackfill}
 * does. Its range is everything before the cutoff the workflow fixes, so it takes no days.
 */
export async function startViewBackfill(client: Client, raw: unknown, workflowId: string) {
  const input = parseViewInput(raw);
  return client.workflow.start<typeof viewBackfillWorkflow>('viewBackfillWorkflow', {
    taskQueue: taskQueueFromEnv(),
    workflowId,
    args: [input],
    staticSummary: `view ${input.job.view.name} → ${input.job.target.table}, backfill before cutoff ${input.job.cutoff}`,
  });
}

/**
 * Starts a `cutoff: snapshot` view job as `viewSnapshotWorkflow`, its input parsed as {@link startViewBackfill}
 * parses it. The workflow then waits for `ch-backfill confirm <workflowId>`.
 */
export async function startViewSnapshot(client: Client, raw: unknown, workflowId: string) {
  const input = parseViewInput(raw);
  return client.workflow.start<typeof viewSnapshotWorkflow>('viewSnapshotWorkflow', {
    taskQueue: taskQueueFromEnv(),
    workflowId,
    args: [input],
    staticSummary: `view ${input.job.view.name} → ${input.job.target.table}, backfill from a snapshot of ${input.job.source.table}`,
  });
}

/**
 * Runs a describe workflow (a dry run) on the worker: in embedded mode only the worker may open the data directory.
 * Nothing is created; no answer within a minute means no worker serves the task queue.
 */
async function describeOnWorker<T>(client: Client, workflowType: string, idPrefix: string, input: unknown): Promise<T> {
  const taskQueue = taskQueueFromEnv();
  return client.workflow
    .execute(workflowType, {
      taskQueue,
      workflowId: `${idPrefix}-${randomUUID()}`,
      args: [input],
      workflowExecutionTimeout: '1m',
    })
    .catch((err: unknown) => {
      if (err instanceof WorkflowFailedError && err.cause instanceof TimeoutFailure) {
        throw new CliError(`the dry run got no answer within 1 minute: is a worker serving task queue ${taskQueue}?`);
      }
      throw err;
    }) as Promise<T>;
}

/**
 * A view job's dry run: `describeViewBackfillWorkflow` on the worker, with the input parsed as
 * {@link startViewBackfill} parses it. Nothing is created.
 */
export async function describeViewBackfill(client: Client, raw: unknown) {
  return describeOnWorker<Awaited<ReturnType<typeof describeViewBackfillWorkflow>>>(
    client,
    'describeViewBackfillWorkflow',
    'describe-view',
    parseViewInput(raw),
  );
}

/**
 * Starts an import (`kind: import`) with every default of its input applied here, as {@link startBackfill} does.
 * Its range is every history row before the checkpoint the workflow fixes, so it takes no days.
 */
export async function startImport(client: Client, raw: unknown, workflowId: string) {
  const parsed = importInputSchema.safeParse(raw);
  if (!parsed.success) throw new CliError(`invalid import input:\n${describeIssues(parsed.error)}`);
  const input: ImportInput = parsed.data;
  return client.workflow.start<typeof importWorkflow>('importWorkflow', {
    taskQueue: taskQueueFromEnv(),
    workflowId,
    args: [input],
    staticSummary: `import ${input.job.source.table} → ${input.job.target.table} and its views, before checkpoint ${input.job.checkpoint}`,
  });
}

/** An import job's dry run: `describeImportWorkflow` on the worker, the input parsed as {@link startImport} does. */
export async function describeImport(client: Client, raw: unknown) {
  const parsed = importInputSchema.safeParse(raw);
  if (!parsed.success) throw new CliError(`invalid import input:\n${describeIssues(parsed.error)}`);
  return describeOnWorker<Awaited<ReturnType<typeof describeImportWorkflow>>>(
    client,
    'describeImportWorkflow',
    'describe-import',
    parsed.data,
  );
}
