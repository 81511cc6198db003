import type { ViewJob } from '../../shared/job-spec';
import type { SnapshotDescription } from '../../shared/snapshot-input';
import type { viewSnapshotWorkflow } from '../../workflows';
import { refuseRangeOptions } from '../backfill-options';
import { formatSnapshotDescription } from './view-snapshot-description';
import { formatSummary } from '../summary-table';
import { taskQueueFromEnv } from '../temporal-client';
import type { JobKind } from './job-kind';
import { describeViewJob, parseViewInput } from './view';
import { historyFillPriority } from '../../shared/task-priority';

/**
 * A view job with `cutoff: snapshot`, for a source without a timestamp (`viewSnapshotWorkflow`): the workflow waits
 * for `ch-backfill confirm <id>` once the operator paused inserts, takes a snapshot of the source and creates the
 * view, says inserts may resume, then fills the target from the snapshot.
 */
export const viewSnapshotKind: JobKind<ViewJob> = {
  label: 'a view job',
  workflowType: 'viewSnapshotWorkflow',
  defaultWorkflowId: (job) => `view-backfill-${job.view.name}`,
  checkOptions(file, _job, options) {
    refuseRangeOptions(
      file,
      { label: 'a view job', qualifier: ' with cutoff: snapshot', range: 'it backfills every row of its snapshot' },
      options,
    );
  },
  async start(client, job, _options, workflowId) {
    const input = parseViewInput({ job });
    const handle = await client.workflow.start<typeof viewSnapshotWorkflow>('viewSnapshotWorkflow', {
      taskQueue: taskQueueFromEnv(),
      workflowId,
      args: [input],
      staticSummary: `view ${input.job.view.name} → ${input.job.target.table}, backfill from a snapshot of ${input.job.source.table}`,
      priority: historyFillPriority(input.job.target.table),
    });
    return {
      handle,
      notes: [`pause inserts into ${job.source.table}, then run: ch-backfill confirm ${handle.workflowId}`],
      async summary() {
        const s = await handle.result();
        // The view owns every row inserted since it exists, the backfill the rest.
        return (
          `${formatSummary(s)}\n${s.view} writes every row inserted since ${s.insertsMayResumeAt} into ${s.target}; ` +
          `the ${s.snapshotRows.toLocaleString('en-US')} rows of the snapshot ${s.snapshot} were ` +
          'backfilled, and the snapshot dropped.'
        );
      },
    };
  },
  async describe(client, file, job) {
    const description = await describeViewJob(client, job);
    return {
      text: formatSnapshotDescription(file, description as SnapshotDescription),
      json: { server: description.plan.server, ...description },
    };
  },
};
