import type { Statement } from '../../clickhouse/statement';
import type { TableRef } from '../../shared/table-ref';

export function selectCurrentDatabase(): Statement<{ database: string }> {
  return { query: 'SELECT currentDatabase() AS database', params: {} };
}

/** A table's engine and keys as `system.tables` shows them; no row when the table does not exist. */
export interface TableInfo {
  engine: string;
  /** The engine with its arguments and clauses (`CollapsingMergeTree(sign) ORDER BY …`). */
  engine_full: string;
  partition_key: string;
  sorting_key: string;
}

export function selectTableInfo(table: TableRef): Statement<TableInfo> {
  return {
    query:
      'SELECT engine, engine_full, partition_key, sorting_key FROM system.tables ' +
      'WHERE database = {db:String} AND name = {name:String}',
    params: { db: table.database, name: table.name },
  };
}

/** A column and its ClickHouse type, as `system.columns` and `DESCRIBE` report it. */
export interface TableColumn {
  name: string;
  type: string;
}

export function selectTableColumns(table: TableRef): Statement<TableColumn> {
  return {
    query:
      'SELECT name, type FROM system.columns WHERE database = {db:String} AND table = {name:String} ORDER BY position',
    params: { db: table.database, name: table.name },
  };
}

export function selectFunctionKinds(names: string[]): Statement<{ name: string; is_aggregate: number }> {
  return {
    query: 'SELECT name, is_aggregate FROM system.functions WHERE name IN {names:Array(String)}',
    params: { names },
  };
}

export function selectAggregateCombinators(): Statement<{ name: string }> {
  return { query: 'SELECT name FROM system.aggregate_function_combinators', params: {} };
}

/** Output columns and types of a SELECT, without running it (`DESCRIBE` has more columns; these are read). */
export function describeSelect(select: Statement): Statement<TableColumn> {
  return { query: `DESCRIBE (${select.query})`, params: select.params };
}
