import type { Command } from 'commander';
import { formatSummary } from '../summary-table';
import { loadJobFile } from '../job-file';
import { showProgress } from '../progress-view';
import { startBackfill } from '../start-backfill';
import { connectTemporalClient } from '../temporal-client';

interface StartOptions {
  job: string;
  from: string;
  to: string;
  workflowId?: string;
  wait: boolean;
  allowShrink?: boolean;
}

/** `start --job <file> --from <day> --to <day>`: starts a backfill on the worker's task queue. */
export function registerStartCommand(program: Command): void {
  program
    .command('start')
    .description('start a backfill of a job over an inclusive range of days')
    .requiredOption('--job <file>', 'job file (YAML or JSON)')
    .requiredOption('--from <YYYY-MM-DD>', 'first day; its whole partition is rebuilt')
    .requiredOption('--to <YYYY-MM-DD>', 'last day; its whole partition is rebuilt')
    .option('--workflow-id <id>', 'workflow id (default: backfill-<target>-<from>-<to>)')
    .option('--allow-shrink', "swap partitions that shrink past the job's safety.maxShrink without asking")
    .option('--no-wait', 'return once started instead of following progress')
    .action(async (options: StartOptions) => {
      const job = loadJobFile(options.job);
      const client = await connectTemporalClient();
      const workflowId = options.workflowId ?? `backfill-${job.target.table}-${options.from}-${options.to}`;
      const input = { job, from: options.from, to: options.to, allowShrink: options.allowShrink ?? false };
      const handle = await startBackfill(client, input, workflowId);
      console.log(`started ${workflowId}`);
      if (!options.wait) return;
      const result = handle.result();
      await showProgress(handle, result);
      console.log(formatSummary(await result));
    });
}
