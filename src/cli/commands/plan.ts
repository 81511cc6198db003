import type { Command } from 'commander';
import type { TestDayResult } from '../../activities/aggregate/test-day';
import { testDayInputSchema } from '../../shared/plan-input';
import { describeIssues } from '../../shared/input-errors';
import type { testBackfillDayWorkflow } from '../../workflows';
import { askWorker } from '../ask-worker';
import type { BackfillOptions } from '../backfill-options';
import { CliError } from '../cli-error';
import { loadJobFile } from '../job-file';
import { jobKindFor } from '../kinds/registry';
import { connectTemporalClient } from '../temporal-client';
import { formatTestDay } from '../test-day-report';

interface PlanOptions extends BackfillOptions {
  job: string;
  json?: boolean;
  testDay?: string;
}

/**
 * `plan --job <file> [--from --to] [--only <mode>]`: what `start` with the same options would do, creating nothing;
 * `plan --job <file> --test-day <day>`: the job's aggregation of one day, in a scratch table that is dropped again.
 * Both run on the worker (in embedded mode only the worker opens the data directory).
 */
export function registerPlanCommand(program: Command): void {
  program
    .command('plan')
    .description('show what a backfill would do, creating nothing; or test the job on one day')
    .requiredOption('--job <file>', 'job file (YAML or JSON)')
    .option('--from <YYYY-MM-DD>', 'aggregate jobs: first day of the range')
    .option('--to <YYYY-MM-DD>', 'aggregate jobs: last day of the range')
    .option('--only <mode>', 'aggregate jobs: all (default), missing, changed, failed; view restates: all, changed')
    .option('--retry-of <workflowId>', 'with --only failed: the backfill whose failed partitions to take')
    .option('--allow-shrink', 'as start (it changes no statement)')
    .option('--test-day <YYYY-MM-DD>', 'aggregate jobs: aggregate this day into a scratch table, check it, drop it')
    .option('--json', 'print the plan as JSON')
    .action(async (options: PlanOptions) => {
      const job = loadJobFile(options.job);
      if (options.testDay !== undefined) {
        if (job.kind !== 'aggregate') {
          throw new CliError(
            `${options.job} is ${jobKindFor(options.job, job).label}: --test-day tests aggregate jobs`,
          );
        }
        if (options.from !== undefined || options.to !== undefined || options.only !== undefined) {
          throw new CliError('--test-day tests one day: leave out --from, --to and --only');
        }
        const parsed = testDayInputSchema.safeParse({ job, day: options.testDay });
        if (!parsed.success) throw new CliError(`invalid test day input:\n${describeIssues(parsed.error)}`);
        const client = await connectTemporalClient();
        const result: TestDayResult = await askWorker<typeof testBackfillDayWorkflow>(
          client,
          'testBackfillDayWorkflow',
          [parsed.data],
          { idPrefix: 'test-day', what: 'test of one day' },
        );
        console.log(options.json ? JSON.stringify(result, null, 2) : formatTestDay(options.job, result));
        if (result.checks.some((c) => !c.ok)) throw new CliError(`the test of ${options.testDay} failed validation`);
        return;
      }
      const client = await connectTemporalClient();
      const kind = jobKindFor(options.job, job);
      kind.checkOptions(options);
      const plan = await kind.describe(client, options);
      console.log(options.json ? JSON.stringify(plan.json, null, 2) : plan.text);
    });
}
