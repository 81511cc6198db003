import { ApplicationFailure } from '@temporalio/common';
import { isClickHouseError, type ClickHouseError } from '../clickhouse/clickhouse-error';
import type { ValidationCheck } from '../shared/backfill-results';
import { FailureType } from '../shared/failure-types';

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

/** After a swap the target partition does not hold what the shadow held; the swap is retried. */
export class SwapVerificationError extends Error {
  override readonly name = 'SwapVerificationError';
}

/**
 * ClickHouse error codes that mean the statement itself is wrong (unknown table or column, bad type, syntax,
 * refused argument): retrying them only repeats the failure. Everything else (memory, network, timeouts,
 * too many parts) is retried by Temporal.
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

/** Decides, where an activity's error leaves it, whether Temporal may retry it. */
export function toActivityFailure(err: unknown): unknown {
  if (err instanceof JobSpecError || err instanceof ValidationMismatchError || err instanceof BackupMissingError) {
    return ApplicationFailure.create({ message: err.message, type: err.name, nonRetryable: true, cause: err });
  }
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
