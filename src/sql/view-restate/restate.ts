import type { Statement } from '../../clickhouse/statement';
import type { ViewRestateBuild } from '../../shared/partition-task';
import type { TableRef } from '../../shared/table-ref';
import { quoteAllowListedIdentifier as q } from '../engine/quote-identifier';
import { tableParam } from '../engine/table-param';
import { viewQueryTotalsColumns, type ViewQueryTotalsReads } from '../view/view-sql';

/**
 * The statements of a view restate: the view's stored query (`system.tables.as_select`, the server's own text)
 * as a subquery, filtered to one target partition by the target's partition function; values as parameters.
 */

/** An existing view: its engine, `TO` table and stored query, and the one table it reads. No row: no such view. */
export function selectRestateView(view: TableRef): Statement<{
  engine: string;
  target_database: string;
  target_table: string;
  as_select: string;
  sources: [string, string][];
}> {
  return {
    query: [
      'SELECT engine, target_database, target_table, as_select,',
      '  (SELECT groupArray((database, name)) FROM system.tables',
      '   WHERE has(arrayZip(dependencies_database, dependencies_table), ({db:String}, {name:String}))) AS sources',
      'FROM system.tables WHERE database = {db:String} AND name = {name:String}',
    ].join('\n'),
    params: { db: view.database, name: view.name },
  };
}

/** The view's output rows of one target partition: its stored query as a subquery, filtered by the partition. */
function partitionRowsOf(build: ViewRestateBuild): string {
  const by = build.partitionBy;
  return `(${build.select}\n)${by ? ` WHERE ${by.fn}(${q(by.column)}) = {partition_key:UInt32}` : ''}`;
}

function partitionParams(build: ViewRestateBuild, partitionId: string): Record<string, number> {
  return build.partitionBy ? { partition_key: Number(partitionId) } : {};
}

/** The restate's fill: the view's output rows of the partition into the shadow, by the target's column names. */
export function insertRestatedPartition(build: ViewRestateBuild, into: TableRef, partitionId: string): Statement {
  const dst = tableParam('into', into);
  const names = build.columns.map(q).join(', ');
  return {
    query: `INSERT INTO ${dst.sql} (${names})\nSELECT ${names} FROM ${partitionRowsOf(build)}`,
    params: { ...dst.params, ...partitionParams(build, partitionId) },
  };
}

/** Validation's totals of the view's output rows of the partition (see {@link viewQueryTotalsColumns}). */
export function selectRestateQueryTotals(
  build: ViewRestateBuild,
  reads: ViewQueryTotalsReads,
  partitionId: string,
): Statement<Record<string, string>> {
  return {
    query: `SELECT ${viewQueryTotalsColumns(build, reads).join(', ')} FROM ${partitionRowsOf(build)}`,
    params: partitionParams(build, partitionId),
  };
}

/** The partition's rows of the view's output for every target partition it has rows in (the plan's list). */
export function selectRestatePartitions(build: ViewRestateBuild): Statement<{ id: string; rows: string }> {
  const by = build.partitionBy;
  const id = by ? `toString(${by.fn}(${q(by.column)}))` : `'all'`;
  return {
    query: `SELECT ${id} AS id, toString(count()) AS rows FROM (${build.select}\n) GROUP BY id ORDER BY id`,
    params: {},
  };
}

/**
 * The view's output rows that fall outside the partition: for a level of a chain, whose view reads the shadow of
 * the partition above it, rows its own partition function puts into another partition (which the fill would drop).
 */
export function selectRestateRowsOutside(build: ViewRestateBuild, partitionId: string): Statement<{ rows: string }> {
  const by = build.partitionBy;
  return {
    query: `SELECT toString(count()) AS rows FROM (${build.select}\n)${by ? ` WHERE ${by.fn}(${q(by.column)}) != {partition_key:UInt32}` : ' WHERE 0'}`,
    params: partitionParams(build, partitionId),
  };
}

/** Which of `names` (lower case) are aggregate functions: a partition column computed by one maps no source row. */
export function selectAggregateFunctions(names: string[]): Statement<{ name: string }> {
  return {
    query: 'SELECT name FROM system.functions WHERE is_aggregate = 1 AND has({names:Array(String)}, lower(name))',
    params: { names: names.map((n) => n.toLowerCase()) },
  };
}
