import type { WorkflowHandle } from '@temporalio/client';
import type { Command } from 'commander';
import type { ImportSummary } from '../../shared/import-input';
import type { ViewSnapshotSummary } from '../../shared/snapshot-input';
import type { ViewBackfillSummary } from '../../shared/view-input';
import { formatSummary } from '../summary-table';
import { loadJobFile } from '../job-file';
import { showProgress } from '../progress-view';
import { backfillInputFrom, checkKindOptions } from '../backfill-options';
import { describePlan } from '../plan-describers';
import { startBackfill, startImport, startViewBackfill, startViewSnapshot } from '../start-backfill';
import { connectTemporalClient } from '../temporal-client';
import { SNAPSHOT_CUTOFF } from '../../shared/snapshot-cutoff';

interface StartOptions {
  job: string;
  from?: string;
  to?: string;
  workflowId?: string;
  wait: boolean;
  allowShrink?: boolean;
  only?: string;
  retryOf?: string;
  dryRun?: boolean;
}

/**
 * `start --job <file> [--from <day> --to <day>]`: starts a backfill on the worker's task queue. An aggregate job
 * needs the range of days; a view job (`kind: view`) takes none: it backfills every row before its cutoff; nor does
 * an import job (`kind: import`): it loads every history row before its checkpoint.
 */
export function registerStartCommand(program: Command): void {
  program
    .command('start')
    .description('start a backfill: an aggregate job over an inclusive range of days, or a view job')
    .requiredOption('--job <file>', 'job file (YAML or JSON)')
    .option('--from <YYYY-MM-DD>', 'aggregate jobs: first day; its whole partition is rebuilt')
    .option('--to <YYYY-MM-DD>', 'aggregate jobs: last day; its whole partition is rebuilt')
    .option(
      '--workflow-id <id>',
      'workflow id (default: backfill-<target>-<from>-<to>, view jobs view-backfill-<view>, import jobs import-<table>)',
    )
    .option(
      '--allow-shrink',
      "aggregate jobs: swap partitions that shrink past the job's safety.maxShrink without asking",
    )
    .option(
      '--only <mode>',
      'aggregate jobs: which partitions of the range: all (default), missing, changed (recommended), failed',
    )
    .option('--retry-of <workflowId>', 'with --only failed: the backfill whose failed partitions to take')
    .option('--dry-run', 'print what a run would do (as `plan`), creating nothing')
    .option('--no-wait', 'return once started instead of following progress')
    .action(async (options: StartOptions) => {
      const job = loadJobFile(options.job);
      checkKindOptions(options.job, job, options);
      const client = await connectTemporalClient();
      if (options.dryRun) {
        console.log((await describePlan(client, options.job, job, options)).text);
        return;
      }
      if (job.kind === 'view' && job.cutoff === SNAPSHOT_CUTOFF) {
        const handle = await startViewSnapshot(client, { job }, options.workflowId ?? `view-backfill-${job.view.name}`);
        console.log(`started ${handle.workflowId}`);
        console.log(`pause inserts into ${job.source.table}, then run: ch-backfill confirm ${handle.workflowId}`);
        if (!options.wait) return;
        const summary = await follow(handle, handle.result());
        console.log(`${formatSummary(summary)}\n${snapshotLine(summary)}`);
        return;
      }
      if (job.kind === 'import') {
        const handle = await startImport(client, { job }, options.workflowId ?? `import-${job.target.table}`);
        console.log(`started ${handle.workflowId}`);
        if (!options.wait) return;
        const summary = await follow(handle, handle.result());
        console.log(`${formatSummary(summary)}\n${importLine(summary)}`);
        return;
      }
      if (job.kind === 'view') {
        const handle = await startViewBackfill(client, { job }, options.workflowId ?? `view-backfill-${job.view.name}`);
        console.log(`started ${handle.workflowId}`);
        if (!options.wait) return;
        const summary = await follow(handle, handle.result());
        console.log(`${formatSummary(summary)}\n${viewLine(summary)}`);
        return;
      }
      const handle = await startBackfill(
        client,
        await backfillInputFrom(client, job, options),
        options.workflowId ?? `backfill-${job.target.table}-${options.from}-${options.to}`,
      );
      console.log(`started ${handle.workflowId}`);
      if (options.wait) console.log(formatSummary(await follow(handle, handle.result())));
    });
}

/** Shows the live progress bar until the backfill closes, then returns its result. */
async function follow<T>(handle: WorkflowHandle, result: Promise<T>): Promise<T> {
  await showProgress(handle, result);
  return result;
}

/** What a finished snapshot job leaves: the view owns every row inserted since it exists, the backfill the rest. */
function snapshotLine(summary: ViewSnapshotSummary): string {
  return (
    `${summary.view} writes every row inserted since ${summary.insertsMayResumeAt} into ${summary.target}; ` +
    `the ${summary.snapshotRows.toLocaleString('en-US')} rows of the snapshot ${summary.snapshot} were ` +
    'backfilled, and the snapshot dropped.'
  );
}

/** What a finished view backfill leaves: the view owns the rows from the cutoff on, the backfill the older ones. */
function viewLine(summary: ViewBackfillSummary): string {
  return (
    `${summary.view} writes the rows from ${summary.cutoff} on into ${summary.target}; ` +
    `the ${summary.rowsRead.toLocaleString('en-US')} rows before it were backfilled.`
  );
}

/** What a finished import leaves: history before the checkpoint in the main table and every view target. */
function importLine(summary: ImportSummary): string {
  return (
    `${summary.rowsRead.toLocaleString('en-US')} history rows before ${summary.checkpoint} were loaded into ` +
    `${summary.tables.join(', ')}; ingestion owns the rows from the checkpoint on.`
  );
}
