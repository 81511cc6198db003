import type { Statement } from '../../clickhouse/statement';
import type { TableRef } from '../../shared/table-ref';

/**
 * The statements only a `cutoff: snapshot` view job sends (the ClickHouse guide's last scenario). Its snapshot is
 * made of `CREATE TABLE … AS` (src/sql/engine/partition-ops.ts `createTableLike`) and one `ATTACH PARTITION … FROM` per
 * partition (`attachPartitionFrom`); these read what it needs to know about the tables.
 */

/**
 * Every partition of `table` holding active rows, with its rows, from part metadata (reads no data): the
 * partitions a snapshot attaches, and, summed, the rows that tell whether inserts kept arriving meanwhile.
 */
export function selectActivePartitions(table: TableRef): Statement<{ id: string; rows: string }> {
  return {
    query: [
      'SELECT partition_id AS id, toString(sum(rows)) AS rows FROM system.parts',
      'WHERE database = {db:String} AND table = {name:String} AND active',
      'GROUP BY partition_id ORDER BY partition_id',
    ].join('\n'),
    params: { db: table.database, name: table.name },
  };
}
