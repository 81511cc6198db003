import type { Client } from '@temporalio/client';
import { backfillInputSchema, type BackfillInput } from '../shared/backfill-input';
import { describeIssues } from '../shared/input-errors';
import { viewBackfillInputSchema, type ViewBackfillInput } from '../shared/view-input';
import type { backfillWorkflow, viewBackfillWorkflow } from '../workflows';
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
  });
}

/**
 * Starts a view backfill (`kind: view`) with every default of its input applied here, as {@link startBackfill}
 * does. Its range is everything before the cutoff the workflow fixes, so it takes no days.
 */
export async function startViewBackfill(client: Client, raw: unknown, workflowId: string) {
  const parsed = viewBackfillInputSchema.safeParse(raw);
  if (!parsed.success) throw new CliError(`invalid view backfill input:\n${describeIssues(parsed.error)}`);
  const input: ViewBackfillInput = parsed.data;
  return client.workflow.start<typeof viewBackfillWorkflow>('viewBackfillWorkflow', {
    taskQueue: taskQueueFromEnv(),
    workflowId,
    args: [input],
    staticSummary: `view ${input.job.view.name} → ${input.job.target.table}, backfill before cutoff ${input.job.cutoff}`,
  });
}
