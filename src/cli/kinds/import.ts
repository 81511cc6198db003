import { importInputSchema, type ImportInput } from '../../shared/import-input';
import { describeIssues } from '../../shared/input-errors';
import { historyName, type ImportJob } from '../../shared/job-spec';
import type { describeImportWorkflow, importWorkflow } from '../../workflows';
import { askService } from '../ask-service';
import { refuseRangeOptions, type BackfillOptions } from '../backfill-options';
import { CliError } from '../cli-error';
import { formatImportDescription } from './import-description';
import { formatSummary } from '../summary-table';
import { taskQueueFromEnv } from '../temporal-client';
import type { JobKind } from './job-kind';
import { historyFillPriority } from '../../shared/task-priority';
import { describedImportBatch } from '../../activities/import/plan-import';
import { listedTask } from '../../activities/import/staged-batch-files';

/** An import job's workflow input, every default applied; bad input refused naming each field. */
function parseImportInput(raw: unknown): ImportInput {
  const parsed = importInputSchema.safeParse(raw);
  if (!parsed.success) throw new CliError(`invalid import input:\n${describeIssues(parsed.error)}`);
  return parsed.data;
}

/** `--only <mode>` of an import from files, as its input takes it (an unknown mode is refused where parsed). */
function importOnlyOf(options: BackfillOptions): { only?: string } {
  return options.only === undefined ? {} : { only: options.only };
}

/**
 * An import job (`kind: import`): every history row before the checkpoint the workflow fixes is loaded into the
 * live table and all its view targets, batch by batch (`importWorkflow`), while ingestion goes on. It takes no
 * range of days.
 */
export const importKind: JobKind<ImportJob> = {
  label: 'an import job',
  workflowType: 'importWorkflow',
  defaultWorkflowId: (job) => `import-${job.target.table}`,
  checkOptions(file, job, options) {
    const fromFiles = !('table' in job.source);
    refuseRangeOptions(
      file,
      {
        label: 'an import job',
        range:
          "it loads every history row before its checkpoint (the job's checkpoint, auto: the live table's first row)",
      },
      // Files: --only missing|failed loads the files the ledger of loaded files lacks (see importOnlyOf).
      fromFiles ? { ...options, only: undefined, retryOf: undefined } : options,
    );
    if (fromFiles && options.retryOf !== undefined) {
      throw new CliError(`${file}: an import from files reruns its failed batches with --only failed alone`);
    }
  },
  async start(client, job, options, workflowId) {
    const input = parseImportInput({ job, ...importOnlyOf(options) });
    const handle = await client.workflow.start<typeof importWorkflow>('importWorkflow', {
      taskQueue: taskQueueFromEnv(),
      workflowId,
      args: [input],
      staticSummary: `import ${historyName(input.job)} → ${input.job.target.table} and its views, before checkpoint ${input.job.checkpoint}`,
      priority: historyFillPriority(input.job.target.table),
    });
    return {
      handle,
      notes: [],
      async summary() {
        const s = await handle.result();
        // History before the checkpoint is in the main table and every view target; ingestion owns the rest.
        return (
          `${formatSummary(s)}\n${s.rowsRead.toLocaleString('en-US')} history rows before ${s.checkpoint} were ` +
          `loaded into ${s.tables.join(', ')}; ingestion owns the rows from the checkpoint on.`
        );
      },
    };
  },
  async describe(client, file, job, options) {
    const description = await askService<typeof describeImportWorkflow>(
      client,
      'describeImportWorkflow',
      [parseImportInput({ job, ...importOnlyOf(options) })],
      { what: 'dry run' },
    );
    return {
      text: formatImportDescription(file, job, description),
      json: { server: description.plan.server, ...description },
    };
  },
  writerStatements(task) {
    const listed = listedTask(task);
    if (!listed) {
      // The plan staged the batch's file list in a table, which the run read back and may since have dropped.
      throw new CliError(`batch ${task.partition.id}: its file list was staged in a table, not recorded in its task`);
    }
    return describedImportBatch(listed);
  },
};
