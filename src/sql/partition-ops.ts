import type { Statement } from '../clickhouse/statement';
import type { TableRef } from '../shared/backfill-results';
import { quotedTable, tableParam } from './table-param';

/** `CREATE TABLE shadow AS target`: same columns, engine, partitioning and order as the live table. */
export function createTableLike(table: TableRef, like: TableRef): Statement {
  const t = tableParam('table', table);
  return { query: `CREATE TABLE ${t.sql} AS ${quotedTable(like)}`, params: t.params };
}

export function dropTableIfExists(table: TableRef): Statement {
  const t = tableParam('table', table);
  return { query: `DROP TABLE IF EXISTS ${t.sql} SYNC`, params: t.params };
}

export function truncateTable(table: TableRef): Statement {
  const t = tableParam('table', table);
  return { query: `TRUNCATE TABLE ${t.sql}`, params: t.params };
}

/**
 * Atomically replaces the target's partition with the shadow's copy of it (hard links; the shadow keeps its
 * parts, so repeating the statement gives the same result).
 */
export function replacePartition(target: TableRef, from: TableRef, partitionId: string): Statement {
  const t = tableParam('target', target);
  return {
    query: `ALTER TABLE ${t.sql} REPLACE PARTITION ID {partition_id:String} FROM ${quotedTable(from)}`,
    params: { ...t.params, partition_id: partitionId },
  };
}

/** Rows in one partition's active parts, from the parts' metadata (reads no data). */
export function selectActivePartitionRows(table: TableRef, partitionId: string): Statement {
  return {
    query:
      'SELECT toString(sum(rows)) AS rows FROM system.parts ' +
      'WHERE database = {db:String} AND table = {name:String} AND partition_id = {partition_id:String} AND active',
    params: { db: table.database, name: table.name, partition_id: partitionId },
  };
}

/**
 * Stops every running query whose id starts with `prefix` (earlier attempts of the same step) and waits until
 * they are gone, so a retried step never races its predecessor on the server.
 */
export function killQueriesWithIdPrefix(prefix: string): Statement {
  return { query: 'KILL QUERY WHERE startsWith(query_id, {prefix:String}) SYNC', params: { prefix } };
}
