import type { Command } from 'commander';
import { loadJobFile } from '../job-file';
import { jobKindFor } from '../kinds/registry';
import { showProgress } from '../progress-view';
import { connectTemporalClient } from '../temporal-client';

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
      'aggregate jobs: which partitions of the range: all (default), missing, changed (recommended), failed; ' +
        'view restates: all or changed',
    )
    .option('--retry-of <workflowId>', 'with --only failed: the backfill whose failed partitions to take')
    .option('--dry-run', 'print what a run would do (as `plan`), creating nothing')
    .option('--no-wait', 'return once started instead of following progress')
    .action(async (options: StartOptions) => {
      const job = loadJobFile(options.job);
      const kind = jobKindFor(options.job, job);
      kind.checkOptions(options);
      const client = await connectTemporalClient();
      if (options.dryRun) {
        console.log((await kind.describe(client, options)).text);
        return;
      }
      const started = await kind.start(client, options, options.workflowId ?? kind.defaultWorkflowId(options));
      console.log(`started ${started.handle.workflowId}`);
      for (const note of started.notes) console.log(note);
      if (!options.wait) return;
      const summary = started.summary();
      await showProgress(started.handle, summary);
      console.log(await summary);
    });
}
