import { ClickHouseError as HttpClickHouseError } from '@clickhouse/client';
import { ClickHouseError as CommonClickHouseError } from '@clickhouse/client-common';

/** A ClickHouse server error with its numeric `code` and symbolic `type`. */
export type ClickHouseError = HttpClickHouseError | CommonClickHouseError;

/**
 * True for an error ClickHouse itself raised, over HTTP or from the embedded engine (chDB throws the class from
 * its own copy of @clickhouse/client-common, which `instanceof` against @clickhouse/client does not see).
 */
export function isClickHouseError(err: unknown): err is ClickHouseError {
  return err instanceof HttpClickHouseError || err instanceof CommonClickHouseError;
}
