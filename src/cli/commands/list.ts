import type { Client, WorkflowExecutionInfo } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import type { Command } from 'commander';
import { backfillPartitionsKey, backfillTargetKey } from '../../temporal/backfill-search-attributes';
import { LISTED_JOB_KINDS, describeListedJob, sameTarget, type ListedWorkflowType } from '../listed-job';
import { connectTemporalClient } from '../temporal-client';

/**
 * The first argument a workflow run was started with, from the first event of its history (one page of one event,
 * however long the history); undefined when there is none.
 */
async function startInput(client: Client, w: WorkflowExecutionInfo): Promise<unknown> {
  const { history } = await client.workflowService.getWorkflowExecutionHistory({
    namespace: client.options.namespace,
    execution: { workflowId: w.workflowId, runId: w.runId },
    maximumPageSize: 1,
  });
  const payload = history?.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0];
  return payload ? defaultPayloadConverter.fromPayload(payload) : undefined;
}

/**
 * `list [--running] [--target <table>] [--limit <n>]`: jobs of every kind (backfill, daily, view, snapshot, import,
 * rollback, validate) from Temporal's visibility, in the order it returns them, one line each: id, kind, status,
 * target, a detail (a backfill's partitions, a daily run's day, what a rollback undoes, what a validation compares
 * with), start time. The target is the one a backfill recorded (`BackfillTarget`), else the one its input names.
 */
export function registerListCommand(program: Command): void {
  program
    .command('list')
    .description(`list running and recent jobs of every kind (${Object.values(LISTED_JOB_KINDS).join(', ')})`)
    .option('--running', 'only running jobs')
    .option('--target <table>', 'only jobs of this target (database.table, or a table of any database)')
    .option('--limit <n>', 'at most this many', '20')
    .action(async (options: { running?: boolean; target?: string; limit: string }) => {
      const client = await connectTemporalClient();
      const types = Object.keys(LISTED_JOB_KINDS).map((t) => `'${t}'`);
      const filters = [`WorkflowType IN (${types.join(', ')})`];
      if (options.running) filters.push("ExecutionStatus = 'Running'");
      const limit = Number(options.limit);
      let shown = 0;
      for await (const w of client.workflow.list({ query: filters.join(' AND ') })) {
        if (shown >= limit) break;
        const job = describeListedJob(
          w.type as ListedWorkflowType,
          await startInput(client, w),
          w.typedSearchAttributes.get(backfillTargetKey),
          w.typedSearchAttributes.get(backfillPartitionsKey) ?? [],
        );
        if (options.target && !sameTarget(options.target, job.target)) continue;
        shown++;
        console.log(
          [w.workflowId, job.kind, w.status.name, job.target, job.detail, `started ${w.startTime.toISOString()}`]
            .filter(Boolean)
            .join('  '),
        );
      }
      if (shown === 0) console.log('no jobs');
    });
}
