import { describeIssues } from '../../shared/input-errors';
import type { ViewJob } from '../../shared/job-spec';
import { viewBackfillInputSchema, type ViewBackfillInput, type ViewDescription } from '../../shared/view-input';
import type { describeViewBackfillWorkflow, viewBackfillWorkflow } from '../../workflows';
import { askService } from '../ask-service';
import { refuseRangeOptions } from '../backfill-options';
import { CliError } from '../cli-error';
import { formatSummary } from '../summary-table';
import { taskQueueFromEnv } from '../temporal-client';
import { formatViewDescription } from './view-description';
import type { JobKind } from './job-kind';
import { historyFillPriority } from '../../shared/task-priority';
import { describedViewPartition } from '../../activities/view/plan-view';

/** A view job's workflow input, every default applied; bad input refused naming each field. */
export function parseViewInput(raw: unknown): ViewBackfillInput {
  const parsed = viewBackfillInputSchema.safeParse(raw);
  if (!parsed.success) throw new CliError(`invalid view backfill input:\n${describeIssues(parsed.error)}`);
  return parsed.data;
}

/** A view job's dry run, with a cutoff or from a snapshot: `describeViewBackfillWorkflow` on the worker. */
export async function describeViewJob(client: Parameters<typeof askService>[0], job: ViewJob) {
  return askService<typeof describeViewBackfillWorkflow>(
    client,
    'describeViewBackfillWorkflow',
    [parseViewInput({ job })],
    { what: 'dry run' },
  );
}

/**
 * A view job (`kind: view`) with a cutoff: every source row before the cutoff the workflow fixes is backfilled into
 * the view's target, partition by partition (`viewBackfillWorkflow`), while the live view writes the rows from the
 * cutoff on. It takes no range of days.
 */
export const viewKind: JobKind<ViewJob> = {
  label: 'a view job',
  workflowType: 'viewBackfillWorkflow',
  defaultWorkflowId: (job) => `view-backfill-${job.view.name}`,
  checkOptions(file, _job, options) {
    refuseRangeOptions(
      file,
      {
        label: 'a view job',
        range: "it backfills every row before its cutoff (the job's cutoff, auto: a minute ahead)",
      },
      options,
    );
  },
  async start(client, job, _options, workflowId) {
    const input = parseViewInput({ job });
    const handle = await client.workflow.start<typeof viewBackfillWorkflow>('viewBackfillWorkflow', {
      taskQueue: taskQueueFromEnv(),
      workflowId,
      args: [input],
      staticSummary: `view ${input.job.view.name} → ${input.job.target.table}, backfill before cutoff ${input.job.cutoff}`,
      priority: historyFillPriority(input.job.target.table),
    });
    return {
      handle,
      notes: [],
      async summary() {
        const s = await handle.result();
        // What a finished view backfill leaves: the view owns the rows from the cutoff on, the backfill the rest.
        return (
          `${formatSummary(s)}\n${s.view} writes the rows from ${s.cutoff} on into ${s.target}; ` +
          `the ${s.rowsRead.toLocaleString('en-US')} rows before it were backfilled.`
        );
      },
    };
  },
  async describe(client, file, job) {
    const description = await describeViewJob(client, job);
    return {
      text: formatViewDescription(file, job, description as ViewDescription),
      json: { server: description.plan.server, ...description },
    };
  },
  writerStatements: (task) => describedViewPartition(task),
};
