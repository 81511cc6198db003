import type { Statement } from '../clickhouse/statement';
import type { TableRef } from '../shared/table-ref';

export function selectCurrentDatabase(): Statement {
  return { query: 'SELECT currentDatabase() AS database', params: {} };
}

export function selectTableInfo(table: TableRef): Statement {
  return {
    query:
      'SELECT engine, partition_key, sorting_key FROM system.tables WHERE database = {db:String} AND name = {name:String}',
    params: { db: table.database, name: table.name },
  };
}

export function selectTableColumns(table: TableRef): Statement {
  return {
    query:
      'SELECT name, type FROM system.columns WHERE database = {db:String} AND table = {name:String} ORDER BY position',
    params: { db: table.database, name: table.name },
  };
}

export function selectFunctionKinds(names: string[]): Statement {
  return {
    query: 'SELECT name, is_aggregate FROM system.functions WHERE name IN {names:Array(String)}',
    params: { names },
  };
}

export function selectAggregateCombinators(): Statement {
  return { query: 'SELECT name FROM system.aggregate_function_combinators', params: {} };
}

/** Output columns and types of a SELECT, without running it. */
export function describeSelect(select: Statement): Statement {
  return { query: `DESCRIBE (${select.query})`, params: select.params };
}
