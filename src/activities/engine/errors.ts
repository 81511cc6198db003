import { ApplicationFailure } from '@temporalio/common';
import { isClickHouseError, type ClickHouseError } from '../../clickhouse/clickhouse-error';
import type { ValidationCheck } from '../../shared/backfill-results';
import { FailureType } from '../../shared/failure-types';

/** The job does not fit the source or target it names: retrying cannot help. */
export class JobSpecError extends Error {
  override readonly name = FailureType.JobSpec;
  constructor(
    readonly field: string,
    message: string,
    options?: ErrorOptions,
  ) {
    super(`${field}: ${message}`, options);
  }
}

/** The shadow table disagrees with the source: the partition is not swapped in. */
export class ValidationMismatchError extends Error {
  override readonly name = FailureType.ValidationMismatch;
  constructor(
    readonly partition: string,
    readonly checks: ValidationCheck[],
  ) {
    const failed = checks.filter((c) => !c.ok);
    super(
      `partition ${partition} failed validation: ` +
        failed.map((c) => `${c.name}: expected ${c.expected}, got ${c.actual}`).join('; '),
    );
  }
}

/** A rollback's backup table is gone (dropped when its retention ended): there is nothing to restore from. */
export class BackupMissingError extends Error {
  override readonly name = FailureType.BackupMissing;
}

/** The backup holds fewer rows than the live partition it guards: the partition fails before its swap. */
export class BackupIncompleteError extends Error {
  override readonly name = FailureType.BackupIncomplete;
}

/**
 * A query of an earlier build attempt still runs after the KILL that should have stopped it: the build is not
 * redone beside it. Retried by Temporal, so the redo waits until the server has stopped the old query.
 */
export class EarlierBuildRunningError extends Error {
  override readonly name = 'EarlierBuildRunningError';
}

/** After a swap the target partition does not hold what the shadow held; the swap is retried. */
export class SwapVerificationError extends Error {
  override readonly name = 'SwapVerificationError';
}

/**
 * ClickHouse error codes that mean the statement itself is wrong (unknown table or column, bad type, syntax,
 * refused argument): retrying them only repeats the failure. Errors of the user's rights and profile are
 * classified by {@link serverConfigurationFailure}; everything else (network, too many parts) is retried by
 * Temporal.
 */
const PERMANENT_CLICKHOUSE_CODES = new Set([
  '16', // NO_SUCH_COLUMN_IN_TABLE
  '36', // BAD_ARGUMENTS
  '43', // ILLEGAL_TYPE_OF_ARGUMENT
  '44', // ILLEGAL_COLUMN
  '46', // UNKNOWN_FUNCTION
  '47', // UNKNOWN_IDENTIFIER
  '53', // TYPE_MISMATCH
  '60', // UNKNOWN_TABLE
  '62', // SYNTAX_ERROR
  '81', // UNKNOWN_DATABASE
  '122', // INCOMPATIBLE_COLUMNS
  '184', // ILLEGAL_AGGREGATION
  '215', // NOT_AN_AGGREGATE
  '386', // NO_COMMON_TYPE
]);

/** ClickHouse's UNKNOWN_TABLE: the statement names a table that does not exist. */
export function isUnknownTable(err: unknown): err is ClickHouseError {
  return isClickHouseError(err) && String(err.code) === '60';
}

export function isPermanentClickHouseError(err: unknown): err is ClickHouseError {
  return isClickHouseError(err) && PERMANENT_CLICKHOUSE_CODES.has(String(err.code));
}

/**
 * Server errors from the user's rights or profile, by code (ClickHouse src/Common/ErrorCodes.cpp): retrying
 * cannot help, so they fail at once. `what` says what to change; `named` pulls the grant or setting the server's
 * message names, when it names one.
 */
const REFUSED_CLICKHOUSE_CODES = new Map<string, { what: string; named?: RegExp }>([
  ['497', { what: 'the ClickHouse user lacks the grant', named: /necessary to have the grant (.+?)\.?(?:\s+\(|\s*$)/ }],
  ['291', { what: 'the ClickHouse user may not access the database' }],
  ['164', { what: 'the ClickHouse user is read-only (readonly in its profile); the tool needs one that writes' }],
  ['472', { what: 'the ClickHouse user may not change the setting', named: /[Cc]annot modify '(\w+)'/ }],
  ['452', { what: 'a settings constraint of the ClickHouse profile refuses the setting', named: /Setting (\w+)/ }],
  ['115', { what: 'the ClickHouse server does not know the setting', named: /[Uu]nknown setting '?(\w+)/ }],
  ['516', { what: 'ClickHouse refused the user or password' }],
]);

/**
 * Profile limits, by code: the query read, ran or held more than the user's profile allows. Another attempt may
 * fit (less data, a quieter server), so they are retried, but only {@link LIMIT_ATTEMPTS} times in all.
 */
const LIMIT_CLICKHOUSE_CODES = new Map<string, { limit: string; named?: RegExp }>([
  ['158', { limit: 'max_rows_to_read (or another rows limit)', named: /controlled by '(\w+)'/ }],
  ['307', { limit: 'max_bytes_to_read (or another bytes limit)', named: /controlled by '(\w+)'/ }],
  ['396', { limit: 'max_result_rows / max_result_bytes', named: /controlled by '(\w+)'/ }],
  ['159', { limit: 'max_execution_time' }],
  ['160', { limit: 'min_execution_speed' }],
  ['241', { limit: "max_memory_usage (or the user's or server's memory limit)" }],
]);

/** Attempts an activity gets at a query that exceeds a profile limit before it fails naming the limit. */
export const LIMIT_ATTEMPTS = 3;

function codeName(err: ClickHouseError): string {
  return `${err.type ?? 'code'} ${err.code}`;
}

/**
 * The failure for a ClickHouse error the user's server configuration causes, or undefined for any other error:
 * a refusal (grant, readonly, setting constraint, unknown setting) fails at once naming the grant or setting; a
 * profile limit fails naming the limit once `attempt` reaches {@link LIMIT_ATTEMPTS}, and is retried before.
 * Decided by the error's code, never by its text (the text only supplies the name).
 */
export function serverConfigurationFailure(err: ClickHouseError, attempt: number): ApplicationFailure | undefined {
  const code = String(err.code);
  const refused = REFUSED_CLICKHOUSE_CODES.get(code);
  if (refused) {
    const name = refused.named?.exec(err.message.trim())?.[1];
    return ApplicationFailure.create({
      message: `${refused.what}${name ? ` ${name}` : ''} (${codeName(err)}): ${err.message}`,
      type: FailureType.ServerRefused,
      nonRetryable: true,
      cause: err,
    });
  }
  const limit = LIMIT_CLICKHOUSE_CODES.get(code);
  if (limit && attempt >= LIMIT_ATTEMPTS) {
    const name = limit.named?.exec(err.message)?.[1] ?? limit.limit;
    return ApplicationFailure.create({
      message:
        `the ClickHouse profile limit ${name} stopped the query on ${attempt} attempts (${codeName(err)}); raise ` +
        `it for the tool's user, or make the job's partitions smaller: ${err.message}`,
      type: FailureType.ServerLimit,
      nonRetryable: true,
      cause: err,
    });
  }
  return undefined;
}

/**
 * Decides, where an activity's error leaves it, whether Temporal may retry it. `attempt` is the activity's
 * attempt (1 for the first), which bounds the retries of a profile limit.
 */
export function toActivityFailure(err: unknown, attempt = 1): unknown {
  if (
    err instanceof JobSpecError ||
    err instanceof ValidationMismatchError ||
    err instanceof BackupMissingError ||
    err instanceof BackupIncompleteError
  ) {
    return ApplicationFailure.create({ message: err.message, type: err.name, nonRetryable: true, cause: err });
  }
  const server = isClickHouseError(err) ? serverConfigurationFailure(err, attempt) : undefined;
  if (server) return server;
  if (isPermanentClickHouseError(err)) {
    return ApplicationFailure.create({
      message: err.message,
      type: `ClickHouseError.${err.type ?? err.code}`,
      nonRetryable: true,
      cause: err,
    });
  }
  return err;
}
