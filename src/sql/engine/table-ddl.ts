import type { Statement } from '../../clickhouse/statement';
import type { TableRef } from '../../shared/table-ref';
import { quotedTable, tableParam } from './table-param';

/** `CREATE TABLE shadow AS target`: same columns, engine, partitioning and order as the live table. */
export function createTableLike(table: TableRef, like: TableRef): Statement {
  const t = tableParam('table', table);
  return { query: `CREATE TABLE ${t.sql} AS ${quotedTable(like)}`, params: t.params };
}

/** The same, when the table does not exist yet (a writer's backup table, shared by its partitions). */
export function createTableLikeIfNotExists(table: TableRef, like: TableRef): Statement {
  const t = tableParam('table', table);
  return { query: `CREATE TABLE IF NOT EXISTS ${t.sql} AS ${quotedTable(like)}`, params: t.params };
}

export function dropTableIfExists(table: TableRef): Statement {
  const t = tableParam('table', table);
  return { query: `DROP TABLE IF EXISTS ${t.sql} SYNC`, params: t.params };
}
