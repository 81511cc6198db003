import type { Client } from '@temporalio/client';
import { backfillInputSchema, type BackfillInput } from '../../shared/backfill-input';
import { describeIssues } from '../../shared/input-errors';
import type { AggregateJob } from '../../shared/job-spec';
import { partitionsCovering } from '../../shared/partitions';
import type { backfillWorkflow, describeBackfillWorkflow } from '../../workflows';
import { askService } from '../ask-service';
import { formatBackfillDescription } from './aggregate-description';
import { backfillInputFrom } from '../backfill-options';
import { CliError } from '../cli-error';
import { heldPartitions } from '../partition-locks';
import { formatSummary } from '../summary-table';
import { taskQueueFromEnv } from '../temporal-client';
import type { JobKind } from './job-kind';
import { historyFillPriority } from '../../shared/task-priority';
import { plannedPartitionStatements } from '../../activities/aggregate/describe-backfill';

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
    priority: historyFillPriority(input.job.target.table),
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

/**
 * An aggregate job (`kind: aggregate`): its range of days rebuilt partition by partition (`backfillWorkflow`);
 * the dry run is `describeBackfillWorkflow` on the worker, with the input parsed exactly as `start` parses it, so
 * both refuse the same input.
 */
export const aggregateKind: JobKind<AggregateJob> = {
  label: 'an aggregate job',
  workflowType: 'backfillWorkflow',
  defaultWorkflowId: (job, options) => `backfill-${job.target.table}-${options.from}-${options.to}`,
  checkOptions(file, _job, options) {
    if (options.from === undefined || options.to === undefined) {
      throw new CliError(`${file} is an aggregate job: give the range of days with --from and --to`);
    }
  },
  async start(client, job, options, workflowId) {
    const handle = await startBackfill(client, await backfillInputFrom(client, job, options), workflowId);
    return { handle, notes: [], summary: async () => formatSummary(await handle.result()) };
  },
  async describe(client, file, job, options) {
    const input = parseBackfillInput(await backfillInputFrom(client, job, options));
    const description = await askService<typeof describeBackfillWorkflow>(client, 'describeBackfillWorkflow', [input], {
      what: 'plan',
    });
    const taken = description.partitions.filter((p) => p.taken).map((p) => p.id);
    const held = await heldPartitions(client, description.target, taken);
    return {
      text: formatBackfillDescription(file, input, description, held),
      json: { ...description, blocked: Object.fromEntries(held) },
    };
  },
  // A backfill's writers rebuild their partition; the ledger's creation by the first swap is the job's, not shown.
  writerStatements: (task) => plannedPartitionStatements(task, false),
};
