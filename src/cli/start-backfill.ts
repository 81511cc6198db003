import type { Client } from '@temporalio/client';
import { TypedSearchAttributes } from '@temporalio/common';
import type { BackfillInputRaw } from '../shared/backfill-input';
import { partitionGranularity, type JobSpecInput } from '../shared/job-spec';
import { partitionsCovering } from '../shared/partitions';
import { backfillPartitionsKey, backfillTargetKey } from '../temporal/backfill-search-attributes';
import type { backfillWorkflow } from '../workflows';
import { CliError } from './cli-error';
import { taskQueueFromEnv } from './temporal-client';

/** The partition ids a backfill input covers: its explicit list, or every partition its range touches. */
export function inputPartitions(input: BackfillInputRaw): string[] {
  if (input.partitions) return input.partitions;
  const granularity = partitionGranularity.parse(input.job.partitionBy ?? 'month');
  return partitionsCovering(input.from, input.to, granularity).map((p) => p.id);
}

const targetOf = (job: JobSpecInput): string => job.target.table;

/**
 * Refuses to go on when a running backfill on the same target (as the job names it) covers any of
 * `partitions`, naming that workflow. Checked by the CLI before it starts a workflow; two starts in the same
 * instant are not caught (visibility is eventually consistent).
 */
export async function assertNoOverlap(client: Client, target: string, partitions: string[]): Promise<void> {
  const wanted = new Set(partitions);
  const query = `WorkflowType = 'backfillWorkflow' AND ExecutionStatus = 'Running' AND BackfillTarget = '${target}'`;
  for await (const running of client.workflow.list({ query })) {
    const theirs = running.typedSearchAttributes.get(backfillPartitionsKey) ?? [];
    const shared = theirs.filter((p) => wanted.has(p));
    if (shared.length > 0) {
      throw new CliError(
        `refused: running backfill ${running.workflowId} already covers ${target} partition(s) ` +
          `${shared.slice(0, 10).join(', ')}${shared.length > 10 ? ', …' : ''}`,
      );
    }
  }
}

/** Starts a backfill with its search attributes, after refusing an overlap with a running one. */
export async function startBackfill(client: Client, input: BackfillInputRaw, workflowId: string) {
  // The target is a validated plain name (letters, digits, underscores, one dot), safe inside the query.
  const target = targetOf(input.job);
  const partitions = inputPartitions(input);
  await assertNoOverlap(client, target, partitions);
  return client.workflow.start<typeof backfillWorkflow>('backfillWorkflow', {
    taskQueue: taskQueueFromEnv(),
    workflowId,
    args: [input],
    typedSearchAttributes: new TypedSearchAttributes([
      { key: backfillTargetKey, value: target },
      { key: backfillPartitionsKey, value: partitions },
    ]),
  });
}
