import type { Client } from '@temporalio/client';
import { backfillInputSchema, type BackfillInput } from '../shared/backfill-input';
import { importInputSchema, type ImportInput } from '../shared/import-input';
import { describeIssues } from '../shared/input-errors';
import { partitionsCovering } from '../shared/partitions';
import { viewBackfillInputSchema, type ViewBackfillInput } from '../shared/view-input';
import type {
  backfillWorkflow,
  describeBackfillWorkflow,
  describeImportWorkflow,
  describeViewBackfillWorkflow,
  importWorkflow,
  viewBackfillWorkflow,
  viewSnapshotWorkflow,
} from '../workflows';
import { askWorker } from './ask-worker';
import { CliError } from './cli-error';
import { taskQueueFromEnv } from './temporal-client';

/** A backfill's input with every default applied, as `start` and `plan` both take it; bad input is refused here. */
export function parseBackfillInput(raw: unknown): BackfillInput {
  const parsed = backfillInputSchema.safeParse(raw);
  if (!parsed.success) throw new CliError(`invalid backfill input:\n${describeIssues(parsed.error)}`);
  return parsed.data;
}

/**
 * Starts a backfill with every default of its input applied here, where the input enters, so the workflow's
 * history holds the complete input. Overlapping backfills need no check here: each partition is written under
 * its own lock (the partition workflow's id), so a partition another backfill holds simply waits.
 */
export async function startBackfill(client: Client, raw: unknown, workflowId: string) {
  const input = parseBackfillInput(raw);
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
  // `missing` and `changed` are chosen by the plan: the range's partitions are what they choose from.
  const taking = input.only === 'all' || input.only === 'failed' ? '' : ` (only ${input.only} ones)`;
  return [
    `target: ${input.job.target.table} (from ${input.job.source.table})`,
    `range: ${input.from} … ${input.to}, ${ids.length} ${input.job.partitionBy} partitions${taking}: ${shown.join(' ')}`,
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
 * A view job's dry run: `describeViewBackfillWorkflow` on the worker (in embedded mode only the worker may open the
 * data directory), with the input parsed as {@link startViewBackfill} parses it. Nothing is created.
 */
export async function describeViewBackfill(client: Client, raw: unknown) {
  return askWorker<typeof describeViewBackfillWorkflow>(client, 'describeViewBackfillWorkflow', [parseViewInput(raw)], {
    idPrefix: 'describe-view',
    what: 'dry run',
    executionTimeout: '1m',
  });
}

/** An import job's workflow input, every default applied; bad input refused naming each field. */
function parseImportInput(raw: unknown): ImportInput {
  const parsed = importInputSchema.safeParse(raw);
  if (!parsed.success) throw new CliError(`invalid import input:\n${describeIssues(parsed.error)}`);
  return parsed.data;
}

/**
 * Starts an import (`kind: import`) with every default of its input applied here, as {@link startBackfill} does.
 * Its range is every history row before the checkpoint the workflow fixes, so it takes no days.
 */
export async function startImport(client: Client, raw: unknown, workflowId: string) {
  const input = parseImportInput(raw);
  return client.workflow.start<typeof importWorkflow>('importWorkflow', {
    taskQueue: taskQueueFromEnv(),
    workflowId,
    args: [input],
    staticSummary: `import ${input.job.source.table} → ${input.job.target.table} and its views, before checkpoint ${input.job.checkpoint}`,
  });
}

/** An import job's dry run: `describeImportWorkflow` on the worker, the input parsed as {@link startImport} does. */
export async function describeImport(client: Client, raw: unknown) {
  return askWorker<typeof describeImportWorkflow>(client, 'describeImportWorkflow', [parseImportInput(raw)], {
    idPrefix: 'describe-import',
    what: 'dry run',
    executionTimeout: '1m',
  });
}

/**
 * An aggregate job's dry run (`plan`, `start --dry-run`): `describeBackfillWorkflow` on the worker, with the input
 * parsed exactly as {@link startBackfill} parses it, so both refuse the same input. Nothing is created.
 */
export async function describeBackfill(client: Client, raw: unknown) {
  return askWorker<typeof describeBackfillWorkflow>(client, 'describeBackfillWorkflow', [parseBackfillInput(raw)], {
    idPrefix: 'describe-backfill',
    what: 'plan',
  });
}
