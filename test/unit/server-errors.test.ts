import { parseError } from '@clickhouse/client-common';
import { ApplicationFailure } from '@temporalio/common';
import { LIMIT_ATTEMPTS, toActivityFailure } from '../../src/activities/engine/errors';
import { FailureType } from '../../src/shared/failure-types';

/** A ClickHouse error as the client parses it from the server's exception text. */
function serverError(text: string) {
  return parseError(text);
}

const ACCESS_DENIED = serverError(
  "Code: 497. DB::Exception: backfill: Not enough privileges. To execute this query, it's necessary to have the " +
    'grant INSERT ON analytics.events_daily. (ACCESS_DENIED) (version 25.8.1.1)',
);
const READONLY = serverError(
  'Code: 164. DB::Exception: backfill: Cannot execute query in readonly mode. (READONLY) (version 25.8.1.1)',
);
const CONSTRAINT = serverError(
  "Code: 452. DB::Exception: Setting max_memory_usage shouldn't be greater than 10000000000. " +
    '(SETTING_CONSTRAINT_VIOLATION) (version 25.8.1.1)',
);
const UNKNOWN_SETTING = serverError(
  "Code: 115. DB::Exception: Unknown setting 'min_insert_block_size_rows_for_materialized_views'. " +
    '(UNKNOWN_SETTING) (version 21.8.1.1)',
);
const TIMEOUT = serverError(
  'Code: 159. DB::Exception: Timeout exceeded: elapsed 60.00123 seconds, maximum: 60. (TIMEOUT_EXCEEDED) ' +
    '(version 25.8.1.1)',
);
const TOO_MANY_ROWS = serverError(
  "Code: 158. DB::Exception: Limit for rows (controlled by 'max_rows_to_read' setting) exceeded, max rows: " +
    '1.00 million, current rows: 8.39 million. (TOO_MANY_ROWS) (version 25.8.1.1)',
);
const MEMORY = serverError(
  'Code: 241. DB::Exception: Memory limit (for query) exceeded: would use 9.31 GiB (attempt to allocate chunk ' +
    'of 4194304 bytes), maximum: 9.31 GiB.: While executing AggregatingTransform. (MEMORY_LIMIT_EXCEEDED) ' +
    '(version 25.8.1.1)',
);

function failure(err: unknown, attempt = 1): ApplicationFailure {
  const f = toActivityFailure(err, attempt);
  expect(f).toBeInstanceOf(ApplicationFailure);
  return f as ApplicationFailure;
}

describe('server-only ClickHouse errors', () => {
  it('parses the real messages into their codes', () => {
    expect([ACCESS_DENIED, READONLY, CONSTRAINT, UNKNOWN_SETTING, TIMEOUT, TOO_MANY_ROWS, MEMORY]).toEqual(
      ['497', '164', '452', '115', '159', '158', '241'].map((code) => expect.objectContaining({ code })),
    );
  });

  it('fails a missing grant at once, naming the grant', () => {
    const f = failure(ACCESS_DENIED);
    expect(f).toMatchObject({ type: FailureType.ServerRefused, nonRetryable: true });
    expect(f.message).toMatch(
      /^the ClickHouse user lacks the grant INSERT ON analytics\.events_daily \(ACCESS_DENIED 497\)/,
    );
  });

  it('fails a read-only user at once', () => {
    const f = failure(READONLY);
    expect(f).toMatchObject({ type: FailureType.ServerRefused, nonRetryable: true });
    expect(f.message).toContain('read-only');
  });

  it('fails a settings constraint and an unknown setting at once, naming the setting', () => {
    expect(failure(CONSTRAINT)).toMatchObject({ type: FailureType.ServerRefused, nonRetryable: true });
    expect(failure(CONSTRAINT).message).toMatch(
      /refuses the setting max_memory_usage \(SETTING_CONSTRAINT_VIOLATION 452\)/,
    );
    expect(failure(UNKNOWN_SETTING).message).toMatch(
      /does not know the setting min_insert_block_size_rows_for_materialized_views \(UNKNOWN_SETTING 115\)/,
    );
  });

  it('retries a profile limit, then fails naming the limit after a bounded number of attempts', () => {
    for (const err of [TIMEOUT, TOO_MANY_ROWS, MEMORY]) {
      for (let attempt = 1; attempt < LIMIT_ATTEMPTS; attempt++) expect(toActivityFailure(err, attempt)).toBe(err);
      expect(failure(err, LIMIT_ATTEMPTS)).toMatchObject({ type: FailureType.ServerLimit, nonRetryable: true });
    }
    expect(failure(TIMEOUT, LIMIT_ATTEMPTS).message).toMatch(
      /^the ClickHouse profile limit max_execution_time stopped/,
    );
    expect(failure(TOO_MANY_ROWS, LIMIT_ATTEMPTS).message).toMatch(/limit max_rows_to_read stopped the query on 3/);
    expect(failure(MEMORY, LIMIT_ATTEMPTS).message).toMatch(/limit max_memory_usage .*MEMORY_LIMIT_EXCEEDED 241/);
  });

  it('decides by the code, not the text', () => {
    const disguised = serverError('Code: 62. DB::Exception: Not enough privileges, readonly mode. (SYNTAX_ERROR)');
    expect(failure(disguised).type).toBe('ClickHouseError.SYNTAX_ERROR');
    const network = serverError('Code: 210. DB::Exception: Timeout exceeded while reading. (NETWORK_ERROR)');
    expect(toActivityFailure(network, 99)).toBe(network);
  });
});
