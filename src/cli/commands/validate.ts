import type { Command } from 'commander';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { randomUUID } from 'node:crypto';
import type { validateWorkflow } from '../../workflows';
import { referenceFromArgument, referenceSchema } from '../../shared/validate-input';
import { describeIssues } from '../../shared/input-errors';
import { describeMismatches, type ValidationReport } from '../../shared/validation-report';
import { CliError } from '../cli-error';
import { loadAggregateJobFile } from '../job-file';
import { connectTemporalClient, taskQueueFromEnv } from '../temporal-client';
import { OPERATOR_PRIORITY } from '../../shared/task-priority';

interface ValidateOptions {
  job: string;
  reference: string;
  referenceCollection?: string;
  date?: string;
  from?: string;
  to?: string;
  sample: string;
  fullDiff: boolean;
  tolerance?: string;
  json: boolean;
}

/** The report as text: per-check verdicts, then what differs. */
export function formatReport(report: ValidationReport): string {
  const badDays = report.days.filter((d) => !d.ok).length;
  const lines = [
    `${report.ok ? 'OK' : 'MISMATCH'}: ${report.target} vs ${report.reference}, ${report.from} … ${report.to}`,
    `  rows per day: ${report.days.length - badDays}/${report.days.length} days agree`,
    ...report.sums.map(
      (s) => `  sum(${s.metric}): ${s.ok ? 'agrees' : 'DIFFERS'} (target ${s.target}, reference ${s.reference})`,
    ),
    `  keys only in the target: ${report.onlyInTarget.count}, only in the reference: ${report.onlyInReference.count}`,
    `  sampled keys compared value by value: ${report.sampled.length}` +
      ` (${report.sampled.filter((s) => s.columns.some((c) => !c.ok)).length} differ)`,
    ...(report.fullDiff ? [`  full diff: ${report.fullDiff.differing} row(s) differ`] : []),
    `  relative tolerance for floats: ${report.relativeTolerance}`,
  ];
  if (!report.ok) lines.push('', ...describeMismatches(report));
  return lines.join('\n');
}

function dayRange(options: ValidateOptions): { from: string; to: string } {
  if (options.date && !options.from && !options.to) return { from: options.date, to: options.date };
  if (!options.date && options.from && options.to) return { from: options.from, to: options.to };
  throw new CliError('give either --date or both --from and --to');
}

/**
 * `validate --job <file> --reference <table | parquet path | url> (--date | --from --to)`: runs `validateWorkflow`
 * on the worker (which alone opens ClickHouse) and prints its report; exits non-zero on a mismatch.
 */
export function registerValidateCommand(program: Command): void {
  program
    .command('validate')
    .description('compare the target with a reference (e.g. the legacy Spark output) over a range of days')
    .requiredOption('--job <file>', 'job file (YAML or JSON)')
    .requiredOption(
      '--reference <ref>',
      'a ClickHouse table, a Parquet path (glob allowed), or an s3:// / https:// URL',
    )
    .option(
      '--reference-collection <name>',
      's3 only: a ClickHouse named collection holding the credentials (else the worker’s environment)',
    )
    .option('--date <YYYY-MM-DD>', 'one day')
    .option('--from <YYYY-MM-DD>', 'first day')
    .option('--to <YYYY-MM-DD>', 'last day')
    .option('--sample <n>', 'keys compared value by value', '3')
    .option('--full-diff', 'compare every row', false)
    .option('--tolerance <relative>', "relative tolerance for floats (default: the job's)")
    .option('--json', 'print the report as JSON', false)
    .action(async (options: ValidateOptions) => {
      const job = loadAggregateJobFile(options.job);
      // Checked here, before any workflow starts: a signed URL must not reach the workflow's input and history.
      const reference = referenceSchema.safeParse(
        referenceFromArgument(options.reference, options.referenceCollection),
      );
      if (!reference.success) throw new CliError(`--reference: ${describeIssues(reference.error, 'reference')}`);
      const client = await connectTemporalClient();
      const input = {
        job,
        reference: reference.data,
        ...dayRange(options),
        sampleKeys: Number(options.sample),
        fullDiff: options.fullDiff,
        ...(options.tolerance ? { relativeTolerance: Number(options.tolerance) } : {}),
      };
      const workflowId = `validate-${job.target.table}-${input.from}-${input.to}-${randomUUID().slice(0, 8)}`;
      let report: ValidationReport;
      try {
        report = await client.workflow.execute<typeof validateWorkflow>('validateWorkflow', {
          taskQueue: taskQueueFromEnv(),
          workflowId,
          args: [input],
          priority: OPERATOR_PRIORITY,
        });
      } catch (err) {
        const cause = err instanceof WorkflowFailedError ? err.cause : undefined;
        const details = cause instanceof ApplicationFailure ? cause.details?.[0] : undefined;
        if (!details) throw err;
        report = details as ValidationReport;
      }
      console.log(options.json ? JSON.stringify(report, null, 2) : formatReport(report));
      if (!report.ok) {
        throw new CliError(`validation failed: the target differs from the reference (workflow ${workflowId})`);
      }
    });
}
