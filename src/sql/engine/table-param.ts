import { quoteAllowListedIdentifier } from './quote-identifier';
import type { TableRef } from '../../shared/table-ref';

/** `{key_db:Identifier}.{key:Identifier}` and its parameters: how every table name reaches ClickHouse. */
export function tableParam(key: string, table: TableRef): { sql: string; params: Record<string, string> } {
  return {
    sql: `{${key}_db:Identifier}.{${key}:Identifier}`,
    params: { [`${key}_db`]: table.database, [key]: table.name },
  };
}

/**
 * `` `db`.`table` `` through the allow-list quoting helper, for the few places ClickHouse's grammar takes no
 * query parameter: the table after `CREATE TABLE … AS` and after `REPLACE PARTITION … FROM`.
 */
export function quotedTable(table: TableRef): string {
  return `${quoteAllowListedIdentifier(table.database)}.${quoteAllowListedIdentifier(table.name)}`;
}
