import { describeIssues } from '../../shared/input-errors';
import type { ViewRestateJob } from '../../shared/job-spec';
import { viewRestateInputSchema, type ViewRestateInput } from '../../shared/view-restate-input';
import type { describeViewRestateWorkflow, viewRestateWorkflow } from '../../workflows';
import { askService } from '../ask-service';
import type { BackfillOptions } from '../backfill-options';
import { CliError } from '../cli-error';
import { formatSummary } from '../summary-table';
import { taskQueueFromEnv } from '../temporal-client';
import type { JobKind } from './job-kind';
import { formatViewRestateDescription } from './view-restate-description';
import { historyFillPriority } from '../../shared/task-priority';
import { describedRestatePartition } from '../../activities/view-restate/described-restate-partition';

/** A restate's workflow input from the job and the options, every default applied; bad input refused by field. */
function parseViewRestateInput(job: ViewRestateJob, options: BackfillOptions): ViewRestateInput {
  const parsed = viewRestateInputSchema.safeParse({
    job,
    from: options.from ?? '',
    to: options.to ?? '',
    allowShrink: options.allowShrink ?? false,
    ...(options.only === 'changed' ? { only: 'changed' } : {}),
  });
  if (!parsed.success) throw new CliError(`invalid view restate input:\n${describeIssues(parsed.error)}`);
  return parsed.data;
}

/**
 * A view restate (`kind: view-restate`): the partitions of an existing view's target in `--from/--to` (or the
 * job's `partitions`) rebuilt from the source with the view's stored query and replaced (`viewRestateWorkflow`).
 */
export const viewRestateKind: JobKind<ViewRestateJob> = {
  label: 'a view restate',
  workflowType: 'viewRestateWorkflow',
  defaultWorkflowId: (job, options) =>
    `view-restate-${job.view}-${job.partitions ? job.partitions.join('_') : `${options.from}-${options.to}`}`,
  checkOptions(file, job, options) {
    const range = options.from !== undefined || options.to !== undefined;
    if (job.partitions && range) throw new CliError(`${file} lists its partitions: --from/--to do not apply`);
    if (!job.partitions && (options.from === undefined || options.to === undefined)) {
      throw new CliError(`${file} is a view restate: give the range of days with --from and --to, or list partitions`);
    }
    if (options.only !== undefined && options.only !== 'all' && options.only !== 'changed') {
      throw new CliError(
        `${file} is a view restate: --only takes all or changed (the partitions whose source rows changed since ` +
          `their last restate), not ${options.only}`,
      );
    }
    if (options.retryOf !== undefined) {
      throw new CliError(`${file} is a view restate: --retry-of does not apply (list the partitions in the job)`);
    }
  },
  async start(client, job, options, workflowId) {
    const input = parseViewRestateInput(job, options);
    const handle = await client.workflow.start<typeof viewRestateWorkflow>('viewRestateWorkflow', {
      taskQueue: taskQueueFromEnv(),
      workflowId,
      args: [input],
      staticSummary: `restate view ${job.view} ${job.partitions?.join(' ') ?? `${input.from} … ${input.to}`}`,
      // The restate rewrites the view's target, which the worker resolves: the view names it here.
      priority: historyFillPriority(job.view),
    });
    const paused = job.ingestion === 'paused-by-operator';
    return {
      handle,
      notes: paused
        ? [
            'partitions the live view can still write into wait for: ch-backfill confirm ' +
              `${handle.workflowId}, once ingestion is paused (status says when it is waiting for confirm)`,
          ]
        : [],
      async summary() {
        const s = await handle.result();
        if (s.unchanged && s.partitions.length === 0 && s.failed.length === 0) return formatSummary(s);
        return (
          `${formatSummary(s)}\n${s.partitions.length} partition(s) of ${s.target} restated from ${s.view}'s query.` +
          (s.ingestionMayResumeAt
            ? `\nIngestion into the view's source may resume since ${s.ingestionMayResumeAt}.`
            : '')
        );
      },
    };
  },
  async describe(client, file, job, options) {
    const input = parseViewRestateInput(job, options);
    const plan = await askService<typeof describeViewRestateWorkflow>(client, 'describeViewRestateWorkflow', [input], {
      what: 'plan',
    });
    return { text: formatViewRestateDescription(file, plan), json: plan };
  },
  writerStatements(task) {
    const { build } = task;
    if (build.kind !== 'view-restate') {
      throw new CliError(`partition ${task.partition.id}: a restore of ${build.from.name}, not a restate`);
    }
    return describedRestatePartition({ ...task, build });
  },
};
