import { engineFamily, engineFamilyArguments } from '../../clickhouse/engine-family';
import { isNumericType, isSimpleSumType } from '../../clickhouse/column-type';
import type { Statement } from '../../clickhouse/statement';
import type { ImportBatchBuild, ImportTarget, TotalCheck } from '../../shared/import-input';
import { parseExpression, type Expr } from '../../shared/expression-syntax';
import { renderExpression } from '../engine/expression';
import { quoteAllowListedIdentifier as q } from '../engine/quote-identifier';
import { quotedTable, tableParam } from '../engine/table-param';
import { dialectOf, type ServerDialect } from '../engine/server-dialect';
import type { TableRef } from '../../shared/table-ref';

/**
 * The statements of a `kind: import` job (the ClickHouse guide's scenario 1: history loaded into a live table and
 * every materialized-view target fed from it, through `_v2` duplicates). Names travel as parameters or through
 * the allow-list quoting; the only text not rendered here is a view's SELECT as the server stores it, re-pointed
 * by src/sql/import/repoint-view-select.ts.
 */

/** The materialized views (and any other tables) the server lists as reading `table`, with their `TO` table. */
export function selectDependentViews(table: TableRef): Statement<{
  database: string;
  name: string;
  engine: string;
  target_database: string;
  target_table: string;
  view_select: string;
}> {
  return {
    query: [
      'SELECT database, name, engine, target_database, target_table, as_select AS view_select FROM system.tables',
      'WHERE (database, name) IN (',
      '  SELECT d.1, d.2 FROM system.tables ARRAY JOIN arrayZip(dependencies_database, dependencies_table) AS d',
      '  WHERE database = {db:String} AND name = {name:String})',
      'ORDER BY database, name',
    ].join('\n'),
    params: { db: table.database, name: table.name },
  };
}

/** Engine (with its arguments), partition key, and the tables that read it (views fed from it). No row: none. */
export function selectImportTableInfo(table: TableRef): Statement<{
  engine: string;
  engine_full: string;
  partition_key: string;
  dependencies_database: string[];
  dependencies_table: string[];
}> {
  return {
    query: [
      'SELECT engine, engine_full, partition_key, dependencies_database, dependencies_table',
      'FROM system.tables WHERE database = {db:String} AND name = {name:String}',
    ].join('\n'),
    params: { db: table.database, name: table.name },
  };
}

/** Columns in table order, with how each gets its value (`''`, `DEFAULT`, `MATERIALIZED`, …) and key membership. */
export function selectColumnDetails(
  table: TableRef,
): Statement<{ name: string; type: string; default_kind: string; is_in_sorting_key: number | boolean }> {
  return {
    query: [
      'SELECT name, type, default_kind, is_in_sorting_key FROM system.columns',
      'WHERE database = {db:String} AND table = {name:String} ORDER BY position',
    ].join('\n'),
    params: { db: table.database, name: table.name },
  };
}

/** A time as epoch microseconds (a DateTime64(9) is cut to the microsecond). */
const micros = (expr: string): string => `toUnixTimestamp64Micro(toDateTime64(${expr}, 6))`;

/** A parameter of epoch microseconds as a time to compare a DateTime/DateTime64 column with. */
const timeParam = (name: string): string => `fromUnixTimestamp64Micro({${name}:Int64})`;

/** Rows of the table and its first time (epoch microseconds; meaningless when it has no rows). */
export function selectTimeRange(table: TableRef, timeColumn: string): Statement<{ rows: string; first: string }> {
  const t = tableParam('table', table);
  return {
    query: `SELECT toString(count()) AS rows, toString(${micros(`min(${q(timeColumn)})`)}) AS first FROM ${t.sql}`,
    params: t.params,
  };
}

/**
 * The main table's partition key (`system.tables.partition_key`, e.g. `toYYYYMM(timestamp)` or `a, toDate(b)`)
 * parsed by the expression grammar, one expression per key column; none for an unpartitioned table.
 *
 * @throws ExpressionSyntaxError when the key is outside the grammar.
 */
export function parsePartitionKey(partitionKey: string): Expr[] {
  if (partitionKey === '') return [];
  const tuple = parseExpression(`tuple(${partitionKey})`);
  if (tuple.kind !== 'call') throw new Error(`partition key ${JSON.stringify(partitionKey)} parsed as ${tuple.kind}`);
  return tuple.args;
}

/** The id ClickHouse gives the one partition of an unpartitioned table. */
const UNPARTITIONED_ID = 'all';

/** The partition id a history row gets in the main table: `partitionId(<key>)`, the server's own function. */
function partitionIdOf(keys: Expr[]): string | undefined {
  return keys.length === 0 ? undefined : `partitionId(${keys.map((k) => renderExpression(k)).join(', ')})`;
}

/**
 * The history's batches: per partition of the main table, the rows before the checkpoint, their first time and
 * just past their last (epoch microseconds), newest partition first.
 */
export function selectImportBatches(
  source: TableRef,
  timeColumn: string,
  partitionKey: string,
  checkpoint: number,
): Statement<{ id: string; rows: string; first_us: string; end_us: string }> {
  const src = tableParam('source', source);
  const time = q(timeColumn);
  const id = partitionIdOf(parsePartitionKey(partitionKey));
  return {
    query: [
      `SELECT ${id ?? '{all:String}'} AS id, toString(count()) AS rows,`,
      `  toString(${micros(`min(${time})`)}) AS first_us, toString(${micros(`max(${time})`)} + 1) AS end_us`,
      `FROM ${src.sql} WHERE ${time} < ${timeParam('checkpoint')}`,
      `GROUP BY id ORDER BY min(${time}) DESC`,
    ].join('\n'),
    params: { ...src.params, checkpoint, ...(id ? {} : { all: UNPARTITIONED_ID }) },
  };
}

/** A further condition on the history rows and its parameters: on a shard's task, the rows that shard owns. */
export interface RowsCondition {
  where: string;
  params: Record<string, number>;
}

/** The history rows of one batch (on a shard's task, those `owns` selects), as `WHERE` conditions and their parameters. */
function batchFilter(build: ImportBatchBuild, timeColumn: string, partitionId: string, owns?: RowsCondition) {
  const time = q(timeColumn);
  const id = partitionIdOf(parsePartitionKey(build.partitionKey));
  return {
    where: [
      `${time} < ${timeParam('checkpoint')}`,
      `${time} >= ${timeParam('batch_from')}`,
      `${time} < ${timeParam('batch_to')}`,
      ...(id ? [`${id} = {partition_id:String}`] : []),
      ...(owns ? [owns.where] : []),
    ]
      .map((w) => `(${w})`)
      .join(' AND '),
    params: {
      checkpoint: build.checkpoint,
      batch_from: build.fromMicros,
      batch_to: build.toMicros,
      ...(id ? { partition_id: partitionId } : {}),
      ...owns?.params,
    },
  };
}

/**
 * The batch's fill: its history rows into the main table's duplicate, whose view copies write the target
 * duplicates block by block, as the live views do on ingestion. On a shard's task (`owns`): only the rows that
 * shard owns.
 */
export function insertImportBatch(
  source: TableRef,
  into: TableRef,
  timeColumn: string,
  build: ImportBatchBuild,
  partitionId: string,
  owns?: RowsCondition,
): Statement {
  const src = tableParam('source', source);
  const dst = tableParam('into', into);
  const filter = batchFilter(build, timeColumn, partitionId, owns);
  const columns = build.columns.map(q).join(', ');
  return {
    query: `INSERT INTO ${dst.sql} (${columns})\nSELECT ${columns} FROM ${src.sql}\nWHERE ${filter.where}`,
    params: { ...src.params, ...dst.params, ...filter.params },
  };
}

/**
 * How many history rows the batch holds (on a shard's task, `owns`: those that shard owns): what the main table's
 * duplicate must hold after the fill.
 */
export function selectImportBatchRows(
  source: TableRef,
  timeColumn: string,
  build: ImportBatchBuild,
  partitionId: string,
  owns?: RowsCondition,
): Statement<{ rows: string }> {
  const src = tableParam('source', source);
  const filter = batchFilter(build, timeColumn, partitionId, owns);
  return {
    query: `SELECT toString(count()) AS rows FROM ${src.sql} WHERE ${filter.where}`,
    params: { ...src.params, ...filter.params },
  };
}

/**
 * Every partition of a table holding active rows, with its rows: from part metadata on one server (reads no data);
 * counted from the table with sequential consistency where the dialect says so (Cloud: `system.parts` is per
 * replica).
 */
export function selectTablePartitions(
  table: TableRef,
  dialect: ServerDialect = dialectOf(),
): Statement<{ id: string; part_rows: string }> {
  if (dialect.rowCountsFrom === 'table') {
    const t = tableParam('table', table);
    return dialect.consistentRead({
      query: `SELECT _partition_id AS id, toString(count()) AS part_rows FROM ${t.sql} GROUP BY id ORDER BY id`,
      params: t.params,
    });
  }
  return {
    query: [
      // Not aliased `rows`: HAVING would then read the alias (a String) instead of the column.
      'SELECT partition_id AS id, toString(sum(rows)) AS part_rows FROM system.parts',
      'WHERE database = {db:String} AND table = {name:String} AND active',
      'GROUP BY partition_id HAVING sum(rows) > 0 ORDER BY partition_id',
    ].join('\n'),
    params: { db: table.database, name: table.name },
  };
}

/**
 * The copy of a view for one batch: `CREATE MATERIALIZED VIEW <copy> TO <target duplicate> AS <select>`, the
 * select being the live view's, re-pointed at the main table's duplicate. A view stores its SELECT as text and
 * takes no parameter after `TO`: both names go through the allow-list quoting.
 */
export function createViewCopy(copy: TableRef, into: TableRef, select: string): Statement {
  return { query: `CREATE MATERIALIZED VIEW ${quotedTable(copy)} TO ${quotedTable(into)}\nAS ${select}`, params: {} };
}

/** The plan of a SELECT as JSON (`EXPLAIN json = 1`): its step types tell whether it aggregates. Reads no data. */
export function explainSelectPlan(select: string): Statement<{ explain: string }> {
  return { query: `EXPLAIN json = 1, description = 0\n${select}`, params: {} };
}

/** Column alias of the n-th total in both totals queries. */
export const importTotalAlias = (i: number): string => `total_${i}`;

const readTotal = (check: TotalCheck): string => `${check.read}(${q(check.column)})`;

/** A view target's duplicate: its rows and each total validation compares (whatever its merge state). */
export function selectTargetTotals(table: TableRef, target: ImportTarget): Statement<Record<string, string>> {
  const t = tableParam('table', table);
  const columns = [
    'toString(count()) AS rows',
    ...target.totals.map((c, i) => `toString(${readTotal(c)}) AS ${importTotalAlias(i)}`),
  ];
  return { query: `SELECT ${columns.join(', ')} FROM ${t.sql}`, params: t.params };
}

/**
 * The same rows and totals of what the target's views' SELECTs (re-pointed at the main table's duplicate, which
 * holds exactly the batch) give over the batch, added up over the views that write the target.
 */
export function selectViewsTotals(selects: string[], target: ImportTarget): Statement<Record<string, string>> {
  // Inner aliases differ from the outer ones: ClickHouse would read `sum(rows)` as the outer alias `rows`.
  const part = (i: number): string => `part_${i}`;
  const inner = selects.map((select) => {
    const columns = ['count() AS part_rows', ...target.totals.map((c, i) => `${readTotal(c)} AS ${part(i)}`)];
    return `SELECT ${columns.join(', ')} FROM (\n${select}\n)`;
  });
  const outer = [
    'toString(sum(part_rows)) AS rows',
    ...target.totals.map((_, i) => `toString(sum(${part(i)})) AS ${importTotalAlias(i)}`),
  ];
  return { query: `SELECT ${outer.join(', ')} FROM (\n${inner.join('\nUNION ALL\n')}\n)`, params: {} };
}

/** Step types of a SELECT's plan that keep rows as they are: filters, projections, reads, `arrayJoin`, sets. */
// prettier-ignore
const ROW_WISE_STEPS = new Set([
  'Expression', 'Filter', 'ArrayJoin', 'ReadFromMergeTree', 'ReadNothing', 'ReadFromStorage',
  'ReadFromPreparedSource', 'ReadFromMemoryStorage', 'CreatingSets', 'Sorting',
]);

/** Whether a plan (from {@link explainSelectPlan}) only filters and maps rows; a set for `IN` is not looked into. */
export function isRowWisePlan(explain: string): boolean {
  interface Node {
    'Node Type': string;
    Plans?: Node[];
  }
  const rowWise = (node: Node): boolean =>
    node['Node Type'] === 'CreatingSet' || (ROW_WISE_STEPS.has(node['Node Type']) && (node.Plans ?? []).every(rowWise));
  return (JSON.parse(explain) as { Plan: Node }[]).every((p) => rowWise(p.Plan));
}

/**
 * What validation can compare exactly between a view target's duplicate and its views' SELECT over the batch,
 * given how its engine's family (plain, Replicated or Shared alike) merges rows (which can happen at any moment):
 * - SummingMergeTree (summing every numeric column outside the key): each such column's `sum`;
 * - AggregatingMergeTree: each `count`/`sum` state's `-Merge`, each `SimpleAggregateFunction(sum, …)`'s `sum`;
 * - MergeTree, fed only by row-wise views: rows, and each numeric column's `sum`;
 * - anything else (a view that aggregates into a MergeTree writes partial rows per insert block; Replacing,
 *   Collapsing and the like drop rows by their own rule): nothing, said in `note`.
 * Only columns every view writing the target outputs are compared.
 */
export function targetChecks(
  table: TableRef,
  engine: string,
  engineFull: string,
  columns: { name: string; type: string; is_in_sorting_key: number | boolean }[],
  outputs: string[][],
  rowWise: boolean,
): ImportTarget {
  const written = columns.filter((c) => outputs.every((o) => o.includes(c.name)));
  const sums = (cols: typeof columns): TotalCheck[] => cols.map((c) => ({ column: c.name, read: 'sum' as const }));
  const none = (note: string): ImportTarget => ({ table, engine, rows: false, totals: [], note });
  const family = engineFamily(engine);
  if (family === 'SummingMergeTree') {
    if (engineFamilyArguments(engineFull).length > 0) {
      return none('a SummingMergeTree summing only the columns it lists: not compared');
    }
    return {
      table,
      engine,
      rows: false,
      totals: sums(written.filter((c) => isNumericType(c.type) && !Number(c.is_in_sorting_key))),
    };
  }
  if (family === 'AggregatingMergeTree') {
    const totals = written.flatMap((c): TotalCheck[] => {
      const state = /^AggregateFunction\((count|sum)\s*[,)]/.exec(c.type);
      if (state) return [{ column: c.name, read: state[1] === 'count' ? 'countMerge' : 'sumMerge' }];
      return isSimpleSumType(c.type) ? [{ column: c.name, read: 'sum' }] : [];
    });
    return { table, engine, rows: false, totals };
  }
  if (family === 'MergeTree') {
    if (!rowWise) return none('a view aggregates into this MergeTree (rows per insert block): not compared');
    return { table, engine, rows: true, totals: sums(written.filter((c) => isNumericType(c.type))) };
  }
  return none(`${engine} drops or merges rows by its own rule: not compared`);
}
