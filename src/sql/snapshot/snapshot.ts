import type { Statement } from '../../clickhouse/statement';
import type { TableRef } from '../../shared/table-ref';
import { dialectOf, type ServerDialect } from '../engine/server-dialect';
import { tableParam } from '../engine/table-param';

/**
 * The statements only a `cutoff: snapshot` view job sends (the ClickHouse guide's last scenario). Its snapshot is
 * made of `CREATE TABLE … AS` (src/sql/engine/partition-ops.ts `createTableLike`) and one `ATTACH PARTITION … FROM` per
 * partition (`attachPartitionFrom`); these read what it needs to know about the tables.
 */

/**
 * Every partition of `table` holding active rows, with its rows: the partitions a snapshot attaches, and, summed,
 * the rows that tell whether inserts kept arriving meanwhile. From part metadata on one server (reads no data);
 * counted from the table with sequential consistency where the dialect says so (Cloud: `system.parts` is per
 * replica, and the source's, the snapshot's and the target's rows must be compared as of the same parts).
 */
export function selectActivePartitions(
  table: TableRef,
  dialect: ServerDialect = dialectOf(),
): Statement<{ id: string; rows: string }> {
  if (dialect.rowCountsFrom === 'table') {
    const t = tableParam('table', table);
    return dialect.consistentRead({
      query: `SELECT _partition_id AS id, toString(count()) AS rows FROM ${t.sql} GROUP BY id ORDER BY id`,
      params: t.params,
    });
  }
  return {
    query: [
      'SELECT partition_id AS id, toString(sum(rows)) AS rows FROM system.parts',
      'WHERE database = {db:String} AND table = {name:String} AND active',
      'GROUP BY partition_id ORDER BY partition_id',
    ].join('\n'),
    params: { db: table.database, name: table.name },
  };
}
