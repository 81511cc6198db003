/**
 * Every `ApplicationFailure` type this project raises, in one place, so workflows, activities, the CLI and tests
 * branch on the same names. Each is non-retryable: retrying cannot change the outcome.
 */
export const FailureType = {
  /** A workflow's input does not parse; the message names each bad field. */
  InvalidInput: 'InvalidInput',
  /** The job does not fit its source or target tables (raised by the plan, before any DDL). */
  JobSpec: 'JobSpecError',
  /** A shadow disagrees with the source; the live partition was not touched. */
  ValidationMismatch: 'ValidationMismatchError',
  /** The comparison with a reference (legacy Spark output) found differences. */
  ReferenceMismatch: 'ValidationMismatch',
  /** An operator rejected a partition that would have shrunk past `safety.maxShrink`. */
  ShrinkRejected: 'ShrinkRejected',
  /** Another job holds the partition and the job says `safety.whenPartitionBusy: fail`. */
  PartitionBusy: 'PartitionBusy',
  /** Some partitions of a backfill or rollback failed; the others completed. */
  PartitionsFailed: 'PartitionsFailed',
  /** A daily run's raw data was not complete by its deadline. */
  DailyNotReady: 'DailyNotReady',
  /** A rollback found no backup table any more (its retention ended). */
  BackupMissing: 'BackupMissingError',
  /**
   * A backup copied fewer rows than the live partition it guards (a replica lacked parts): the swap is not run,
   * since a rollback would restore less than was live.
   */
  BackupIncomplete: 'BackupIncompleteError',
  /** An import batch failed while moving its duplicates into the live tables; the duplicates are kept. */
  MoveIncomplete: 'MoveIncomplete',
  /**
   * The server refused the query for the user's rights or profile (a missing grant, readonly, a setting
   * constraint or an unknown setting); the message names the grant or setting.
   */
  ServerRefused: 'ClickHouseServerRefused',
  /** A profile limit (execution time, rows or bytes to read, memory) stopped the query on every allowed attempt. */
  ServerLimit: 'ClickHouseLimitExceeded',
} as const;
