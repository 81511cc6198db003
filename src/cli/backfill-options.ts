import type { Client } from '@temporalio/client';
import type { BackfillInputRaw } from '../shared/backfill-input';
import { type AggregateJob, type JobSpec } from '../shared/job-spec';
import type { OnlyMode } from '../shared/ledger';
import { CliError } from './cli-error';
import { failedPartitionsOf } from './failed-partitions';
import { SNAPSHOT_CUTOFF } from '../shared/snapshot-cutoff';

/** The options `start` and `plan` share. */
export interface BackfillOptions {
  from?: string;
  to?: string;
  allowShrink?: boolean;
  only?: string;
  retryOf?: string;
}

/**
 * Refuses options that do not fit the job's kind, in the same words for `start` and `plan`: view and import jobs take
 * no range, `--allow-shrink` or `--only`; an aggregate job needs `--from` and `--to`.
 */
export function checkKindOptions(file: string, job: JobSpec, options: BackfillOptions): void {
  if (job.kind === 'aggregate') {
    if (options.from === undefined || options.to === undefined) {
      throw new CliError(`${file} is an aggregate job: give the range of days with --from and --to`);
    }
    return;
  }
  const kind = job.kind === 'import' ? 'an import job' : 'a view job';
  const range =
    job.kind === 'import'
      ? "it loads every history row before its checkpoint (the job's checkpoint, auto: the live table's first row)"
      : job.cutoff === SNAPSHOT_CUTOFF
        ? 'it backfills every row of its snapshot'
        : "it backfills every row before its cutoff (the job's cutoff, auto: a minute ahead)";
  if (options.from !== undefined || options.to !== undefined) {
    throw new CliError(
      `${file} is ${kind}${job.kind === 'view' && job.cutoff === SNAPSHOT_CUTOFF ? ' with cutoff: snapshot' : ''}: ${range}, so --from/--to do not apply`,
    );
  }
  if (options.allowShrink) {
    throw new CliError(
      `${file} is ${kind}: its partitions are appended, never replaced, so --allow-shrink does not apply`,
    );
  }
  if (options.only !== undefined || options.retryOf !== undefined) {
    throw new CliError(`${file} is ${kind}: ${range}, so --only does not apply`);
  }
}

/**
 * The raw input of a backfill of `job` from the options (parsed with its defaults where it is started or described).
 * `--only failed --retry-of <id>` takes the partitions that failed in that backfill, read from Temporal's history.
 */
export async function backfillInputFrom(
  client: Client,
  job: AggregateJob,
  options: BackfillOptions,
): Promise<BackfillInputRaw> {
  const raw = { job, from: options.from ?? '', to: options.to ?? '', allowShrink: options.allowShrink ?? false };
  if (options.retryOf !== undefined && options.only !== 'failed') {
    throw new CliError('--retry-of names the backfill whose failed partitions --only failed takes: add --only failed');
  }
  // An unknown mode is refused where the input is parsed, as any other bad field.
  if (options.only !== 'failed')
    return { ...raw, ...(options.only === undefined ? {} : { only: options.only as OnlyMode }) };
  if (options.retryOf === undefined) throw new CliError('--only failed needs --retry-of <workflow id of the backfill>');
  const { failed } = await failedPartitionsOf(client, options.retryOf);
  return { ...raw, only: 'failed', retryOf: options.retryOf, partitions: failed };
}
