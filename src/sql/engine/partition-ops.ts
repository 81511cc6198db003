import type { Statement } from '../../clickhouse/statement';
import { quotedTable, tableParam } from './table-param';
import type { TableRef } from '../../shared/table-ref';
import { dialectOf, type ServerDialect } from './server-dialect';

export { createTableLike, createTableLikeIfNotExists, dropTableIfExists } from './table-ddl';

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

/**
 * A `REPLACE PARTITION` (already carrying its `SETTINGS alter_sync = …`) allowed to replace from a source holding
 * nothing in the partition (`allow_replace_partition_from_empty_source = 1`): on a sharded cluster's shard, how a
 * partition the source no longer has is emptied there.
 */
export function replaceFromEmptySource(replace: Statement): Statement {
  return { ...replace, query: `${replace.query}, allow_replace_partition_from_empty_source = 1` };
}

/**
 * Copies one partition of `from` into `into` by hard links (`ATTACH PARTITION … FROM`): cheap, leaves `from` as it
 * was, and adds nothing when `from` has nothing in that partition.
 */
export function attachPartitionFrom(into: TableRef, from: TableRef, partitionId: string): Statement {
  const t = tableParam('into', into);
  return {
    query: `ALTER TABLE ${t.sql} ATTACH PARTITION ID {partition_id:String} FROM ${quotedTable(from)}`,
    params: { ...t.params, partition_id: partitionId },
  };
}

/**
 * Drops one partition: the atomic way to empty it. Used instead of `REPLACE PARTITION` from a shadow without
 * parts, whose outcome depends on the server version (an empty target partition before 26.6, an error from 26.6
 * on unless `allow_replace_partition_from_empty_source = 1`).
 */
export function dropPartition(table: TableRef, partitionId: string): Statement {
  const t = tableParam('table', table);
  return {
    query: `ALTER TABLE ${t.sql} DROP PARTITION ID {partition_id:String}`,
    params: { ...t.params, partition_id: partitionId },
  };
}

/**
 * Rows of one partition, for a count that must see earlier writes: on one server from its active parts' metadata
 * (reads no data); where the dialect reads counts from the table (Cloud: `system.parts` is per replica), `count()`
 * of the table's rows in that partition, read with sequential consistency.
 */
export function selectActivePartitionRows(
  table: TableRef,
  partitionId: string,
  dialect: ServerDialect = dialectOf(),
): Statement<{ rows: string }> {
  if (dialect.rowCountsFrom === 'table') {
    const t = tableParam('table', table);
    return dialect.consistentRead({
      query: `SELECT toString(count()) AS rows FROM ${t.sql} WHERE _partition_id = {partition_id:String}`,
      params: { ...t.params, partition_id: partitionId },
    });
  }
  return {
    query:
      'SELECT toString(sum(rows)) AS rows FROM system.parts ' +
      'WHERE database = {db:String} AND table = {name:String} AND partition_id = {partition_id:String} AND active',
    params: { db: table.database, name: table.name, partition_id: partitionId },
  };
}

/**
 * A row per partition of `table` between two partition ids (inclusive) holding active rows, with its rows: from
 * part metadata on one server, counted from the table with sequential consistency on Cloud (as
 * {@link selectActivePartitionRows}).
 */
export function selectPartitionRowsBetween(
  table: TableRef,
  firstId: string,
  lastId: string,
  dialect: ServerDialect = dialectOf(),
): Statement<{ id: string; live_rows: string }> {
  if (dialect.rowCountsFrom === 'table') {
    const t = tableParam('table', table);
    return dialect.consistentRead({
      query: [
        `SELECT _partition_id AS id, toString(count()) AS live_rows FROM ${t.sql}`,
        'WHERE length(_partition_id) = length({first:String}) AND _partition_id BETWEEN {first:String} AND {last:String}',
        'GROUP BY id ORDER BY id',
      ].join('\n'),
      params: { ...t.params, first: firstId, last: lastId },
    });
  }
  return {
    query: [
      // Not aliased `rows`: HAVING would then read the alias (a String) instead of the column.
      'SELECT partition_id AS id, toString(sum(rows)) AS live_rows FROM system.parts',
      'WHERE database = {db:String} AND table = {name:String} AND active',
      '  AND length(partition_id) = length({first:String}) AND partition_id BETWEEN {first:String} AND {last:String}',
      'GROUP BY partition_id HAVING sum(rows) > 0 ORDER BY partition_id',
    ].join('\n'),
    params: { db: table.database, name: table.name, first: firstId, last: lastId },
  };
}

/** Whether the table exists. */
export function selectTableExists(table: TableRef): Statement<{ present: number | boolean }> {
  return {
    query: 'SELECT count() > 0 AS present FROM system.tables WHERE database = {db:String} AND name = {name:String}',
    params: { db: table.database, name: table.name },
  };
}

/**
 * Stops every running query whose id starts with `prefix` (earlier attempts of the same step) and waits until
 * they are gone, so a retried step never races its predecessor on the server. On Cloud `ON CLUSTER default`
 * (the dialect's `killScope`), since a KILL reaches only the node that receives it.
 */
export function killQueriesWithIdPrefix(prefix: string, dialect: ServerDialect = dialectOf()): Statement {
  return {
    query: `KILL QUERY${dialect.killScope} WHERE startsWith(query_id, {prefix:String}) SYNC`,
    params: { prefix },
  };
}
