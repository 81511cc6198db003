import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { describeIssues } from '../shared/input-errors';
import { jobSpecSchema, type AggregateJob, type JobSpec } from '../shared/job-spec';
import { CliError } from './cli-error';
import { jobKindFor } from './kinds/registry';
import { inlineSqlFile } from './sql-file';

/** Reads a YAML or JSON job file and validates it; every problem is reported with its field. */
export function loadJobFile(file: string): JobSpec {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new CliError(`cannot read job file ${file}: ${(err as Error).message}`, { cause: err });
  }
  let raw: unknown;
  try {
    raw = parse(text);
  } catch (err) {
    throw new CliError(`job file ${file} is not valid YAML/JSON: ${(err as Error).message}`, { cause: err });
  }
  const parsed = jobSpecSchema.safeParse(inlineSqlFile(file, raw));
  if (!parsed.success) throw new CliError(`job file ${file} is invalid:\n${describeIssues(parsed.error)}`);
  return parsed.data;
}

/** A job file for the commands that take aggregate jobs only (validate, schedule, daily): a view job is refused. */
export function loadAggregateJobFile(file: string): AggregateJob {
  const job = loadJobFile(file);
  if (job.kind !== 'aggregate') {
    const { label } = jobKindFor(file, job);
    throw new CliError(`job file ${file} is ${label}; this command takes aggregate jobs (use start for it)`);
  }
  return job;
}
