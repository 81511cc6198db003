import type { Client } from '@temporalio/client';
import { type JobSpec } from '../shared/job-spec';
import type { SnapshotDescription } from '../shared/snapshot-input';
import type { ViewDescription } from '../shared/view-input';
import { formatBackfillDescription } from './backfill-description';
import { backfillInputFrom, checkKindOptions, type BackfillOptions } from './backfill-options';
import { CliError } from './cli-error';
import { heldPartitions } from './partition-locks';
import { formatImportDescription } from './import-description';
import { formatSnapshotDescription } from './snapshot-description';
import { describeBackfill, describeImport, describeViewBackfill, parseBackfillInput } from './start-backfill';
import { formatViewDescription } from './view-description';
import { SNAPSHOT_CUTOFF } from '../shared/snapshot-cutoff';

/** A plan: the text a person reads, and the same as data for `--json`. */
export interface PlanOutput {
  text: string;
  json: unknown;
}

/** Describes what a run of one kind of job would do, on the worker, creating nothing. */
export type PlanDescriber<J extends JobSpec> = (
  client: Client,
  file: string,
  job: J,
  options: BackfillOptions,
) => Promise<PlanOutput>;

type Describers = { [K in JobSpec['kind']]?: PlanDescriber<Extract<JobSpec, { kind: K }>> };

/**
 * The dry run of each job kind, for `plan` and `start --dry-run`. A new kind plugs in its describer here; until it
 * does, `plan` refuses its jobs by name.
 */
const describers: Describers = {
  async aggregate(client, file, job, options) {
    const input = parseBackfillInput(await backfillInputFrom(client, job, options));
    const description = await describeBackfill(client, input);
    const taken = description.partitions.filter((p) => p.taken).map((p) => p.id);
    const held = await heldPartitions(client, description.target, taken);
    return {
      text: formatBackfillDescription(file, input, description, held),
      json: { ...description, blocked: Object.fromEntries(held) },
    };
  },
  async view(client, file, job) {
    const description = await describeViewBackfill(client, { job });
    const text =
      job.cutoff === SNAPSHOT_CUTOFF
        ? formatSnapshotDescription(file, description as SnapshotDescription)
        : formatViewDescription(file, job, description as ViewDescription);
    return { text, json: description };
  },
  async import(client, file, job) {
    const description = await describeImport(client, { job });
    return { text: formatImportDescription(file, job, description), json: description };
  },
};

/** What a run of `job` would do, by its kind's describer; the options are checked as `start` checks them. */
export async function describePlan(
  client: Client,
  file: string,
  job: JobSpec,
  options: BackfillOptions,
): Promise<PlanOutput> {
  checkKindOptions(file, job, options);
  const describe = describers[job.kind] as PlanDescriber<JobSpec> | undefined;
  if (!describe) throw new CliError(`${file} is a ${job.kind} job: plan cannot describe ${job.kind} jobs yet`);
  return describe(client, file, job, options);
}
