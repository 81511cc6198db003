import type { Client } from '@temporalio/client';
import type { BackfillInputRaw } from '../shared/backfill-input';
import type { AggregateJob } from '../shared/job-spec';
import type { OnlyMode } from '../shared/ledger';
import { CliError } from './cli-error';
import { failedPartitionsOf } from './failed-partitions';

/** The options `start` and `plan` share. */
export interface BackfillOptions {
  from?: string;
  to?: string;
  allowShrink?: boolean;
  only?: string;
  retryOf?: string;
}

/** How a kind that takes no range names itself and its range in the refusals of range options. */
export interface RangelessKind {
  /** `a view job`, `an import job`. */
  label: string;
  /** Said after the label where `--from`/`--to` are refused (` with cutoff: snapshot`), or nothing. */
  qualifier?: string;
  /** What the job loads instead of a range of days. */
  range: string;
}

/**
 * Refuses the options a kind without a range of days does not take (view and import jobs): `--from`/`--to`,
 * `--allow-shrink` (their partitions are appended) and `--only`, in the same words for `start` and `plan`.
 */
export function refuseRangeOptions(file: string, kind: RangelessKind, options: BackfillOptions): void {
  if (options.from !== undefined || options.to !== undefined) {
    throw new CliError(`${file} is ${kind.label}${kind.qualifier ?? ''}: ${kind.range}, so --from/--to do not apply`);
  }
  if (options.allowShrink) {
    throw new CliError(
      `${file} is ${kind.label}: its partitions are appended, never replaced, so --allow-shrink does not apply`,
    );
  }
  if (options.only !== undefined || options.retryOf !== undefined) {
    throw new CliError(`${file} is ${kind.label}: ${kind.range}, so --only does not apply`);
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
