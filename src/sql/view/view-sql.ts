import type { Statement } from '../../clickhouse/statement';
import type { ViewJob } from '../../shared/job-spec';
import { quoteAllowListedIdentifier as q } from '../engine/quote-identifier';
import { quotedTable, tableParam } from '../engine/table-param';
import type { TableRef } from '../../shared/table-ref';
import { addCondition, parseCreateViewText } from './select-condition';
import { viewTargetEngine, type ViewTargetFamily } from '../../shared/view-target-engine';
import {
  rowCountColumns,
  shorthandNullFill,
  shorthandSelect,
  shorthandUngrouped,
  viewColumns,
  viewShape,
  type NullFillQuery,
  type UngroupedTotals,
  type ViewShape,
} from './view';

/**
 * The statements of a view job whose view is given as SQL (`select:`, or `sql:` read from a `sqlFile:`): the
 * user's SELECT is kept character for character, and only our conditions are inserted into its WHERE by token
 * (src/sql/view/select-condition.ts). The live view, the fill and the checks all start from the same text. The
 * structured form (groupBy + aggregates) is shorthand for such a SELECT ({@link liveViewQuery}): its live view, its
 * target and its fill (ranged, or through the Null engine) are rendered here too.
 */

/** A view's SELECT as SQL (given so, or rendered from the structured form) and what the job says of its target. */
export interface ViewQuery {
  /** The SELECT, exactly as after `AS` in `CREATE MATERIALIZED VIEW … TO … AS`. */
  select: string;
  /** The column the cutoff applies to; none for a snapshot job, whose view reads every row. */
  timeColumn?: string;
  /** The time column as the SELECT reads it, when not its quoted name (qualified, where an alias would hide it). */
  timeColumnSql?: string;
  /** The target's engine family. */
  engine: ViewTargetFamily;
  /** A `CollapsingMergeTree` target's sign column (an output of the SELECT). */
  sign?: string;
  /** The target's ORDER BY; the first column is the partition column. */
  orderBy: string[];
  partitionBy: ViewJob['target']['partitionBy'];
  /** What a Null-engine fill needs; only the structured form gives it (see {@link NullFillQuery}). */
  nullFill?: NullFillQuery;
  /**
   * Output columns whose every row counts its source rows (the structured form's `count()` aggregates): validation
   * compares their totals with the source's rows exactly, and `validation.mode: fast` lets them stand in for the
   * distinct keys. A SELECT given as SQL names none.
   */
  rowCounts?: string[];
  /** The output columns, in order, where the job's form says them (the structured form); else the plan's DESCRIBE. */
  columns?: string[];
  /**
   * The structured form's aggregates without GROUP BY ({@link UngroupedTotals}): where validation compares no keys,
   * its totals are read by a plain scan of the source instead of the grouped query.
   */
  ungrouped?: UngroupedTotals;
}

/** A view query with a cutoff column: every view given as SQL. */
export type TimedViewQuery = ViewQuery & { timeColumn: string };

/** The SQL of a view job given as SQL; undefined for the structured form (groupBy + aggregates). */
export function viewQuery(job: ViewJob): TimedViewQuery | undefined {
  const select = job.select ?? (job.sql !== undefined ? parseCreateViewText(job.sql).select : undefined);
  if (select === undefined) return undefined;
  if (job.source.timeColumn === undefined || job.target.orderBy === undefined) {
    throw new Error('a view given as SQL needs source.timeColumn and target.orderBy (checked by the job schema)');
  }
  const { family, sign } = viewTargetEngine(job.target.engine);
  return {
    select,
    timeColumn: job.source.timeColumn,
    engine: family,
    ...(sign !== undefined ? { sign } : {}),
    orderBy: job.target.orderBy,
    partitionBy: job.target.partitionBy,
  };
}

/**
 * The structured form (groupBy + aggregates) as the SQL it is shorthand for: its SELECT over `source`
 * (src/sql/view/view.ts renders it, names through the allow-list), its groupBy the ORDER BY, no time column for a
 * snapshot job; with `nullTable`, what a Null-engine fill through that table needs.
 */
export function shorthandViewQuery(shape: ViewShape, source: TableRef, nullTable?: TableRef): ViewQuery {
  const { select, timeColumnSql } = shorthandSelect(shape, source);
  return {
    select,
    ...(shape.timeColumn !== undefined ? { timeColumn: shape.timeColumn, timeColumnSql } : {}),
    engine: shape.engine,
    orderBy: shape.groupBy.map((g) => g.name),
    partitionBy: shape.partitionBy,
    ...(nullTable !== undefined ? { nullFill: shorthandNullFill(shape, nullTable) } : {}),
    rowCounts: rowCountColumns(shape),
    columns: viewColumns(shape),
    ungrouped: shorthandUngrouped(shape, source),
  };
}

/** The SQL every view job's live view and target are rendered from: the job's, or its structured form's. */
export function liveViewQuery(job: ViewJob, source: TableRef): ViewQuery {
  return viewQuery(job) ?? shorthandViewQuery(viewShape(job), source);
}

function partitionFunction(vq: ViewQuery): 'toYYYYMM' | 'toYYYYMMDD' | undefined {
  if (vq.partitionBy === 'none') return undefined;
  return vq.partitionBy === 'month' ? 'toYYYYMM' : 'toYYYYMMDD';
}

/** The target's partition key as `system.tables.partition_key` shows it ('' when none). */
export function viewQueryPartitionKey(vq: ViewQuery): string {
  const fn = partitionFunction(vq);
  return fn ? `${fn}(${vq.orderBy[0]})` : '';
}

/**
 * The live view's SELECT: the query with `<time> >= toDateTime(<cutoff>)` added to its WHERE; a snapshot job's
 * (no time column, `cutoff` undefined) as it is. The cutoff is a checked integer literal: a view stores its SELECT
 * as text, and servers before 25.8 take no parameter in it. A cutoff missing on one side refuses to render, so a
 * timed job's view can never lose its cutoff by mistake.
 */
export function liveViewQuerySelect(vq: ViewQuery, cutoff: number | undefined): string {
  if ((cutoff === undefined) !== (vq.timeColumn === undefined)) {
    throw new Error(`refusing to render a cutoff ${cutoff} with time column ${vq.timeColumn}`);
  }
  if (cutoff === undefined || vq.timeColumn === undefined) return vq.select;
  if (!Number.isSafeInteger(cutoff) || cutoff <= 0) throw new Error(`refusing to render cutoff ${cutoff}`);
  const time = vq.timeColumnSql ?? q(vq.timeColumn);
  return addCondition(vq.select, `${time} >= toDateTime(${cutoff})`);
}

/**
 * `CREATE MATERIALIZED VIEW IF NOT EXISTS <view> TO <target> AS <the SELECT from the cutoff on>` (the guide's
 * scenario 2, step 1; step 4 of its last scenario, without a cutoff).
 */
export function createLiveQueryView(
  vq: ViewQuery,
  view: TableRef,
  target: TableRef,
  cutoff: number | undefined,
): Statement {
  return {
    query: `CREATE MATERIALIZED VIEW IF NOT EXISTS ${quotedTable(view)} TO ${quotedTable(target)}\nAS ${liveViewQuerySelect(vq, cutoff)}`,
    params: {},
  };
}

/** The user's SELECT over the rows before the cutoff (a query parameter); a snapshot job's over every row. */
function selectBefore(vq: ViewQuery, select = vq.select): string {
  if (vq.timeColumn === undefined) return select;
  return addCondition(select, `${vq.timeColumnSql ?? q(vq.timeColumn)} < toDateTime({cutoff:UInt32})`);
}

/**
 * The user's SELECT as written, for DESCRIBE (its output columns). Wherever the user's text is followed by ours,
 * a line break comes first, so a trailing `-- comment` of theirs cannot hide it.
 */
export function describeViewQuery(vq: ViewQuery): Statement<{ name: string; type: string }> {
  return { query: `DESCRIBE (${vq.select}\n)`, params: {} };
}

/**
 * `EXPLAIN AST` of the user's SELECT: the server's parse, one node a line (read by src/activities/view/select-ast.ts).
 * The embedded engine returns each line as a bare string, a server as `{ explain }`.
 */
export function explainViewQuery(vq: ViewQuery): Statement<{ explain: string } | string> {
  return { query: `EXPLAIN AST ${vq.select}\n`, params: {} };
}

/**
 * The view's output rows before the cutoff in one target partition: the user's SELECT as a subquery, filtered by
 * the partition its rows land in (nothing more for an unpartitioned target).
 */
function partitionRowsOf(vq: ViewQuery): string {
  const fn = partitionFunction(vq);
  return `(${selectBefore(vq)}\n)${fn ? ` WHERE ${fn}(${q(vq.orderBy[0])}) = {partition_key:UInt32}` : ''}`;
}

/**
 * One partition's source rows before the cutoff, as a condition over a source row: `<time> < cutoff` where timed
 * (`time`: the time column as the SELECT reads it, its quoted name by default), and `fn(<partitionSql>) = key` where
 * partitioned; none without either.
 */
function sourceRowsCondition(vq: ViewQuery, partitionSql: string, time?: string): string | undefined {
  const fn = partitionFunction(vq);
  const conditions = [
    ...(vq.timeColumn !== undefined ? [`${time ?? q(vq.timeColumn)} < toDateTime({cutoff:UInt32})`] : []),
    ...(fn ? [`${fn}(${partitionSql}) = {partition_key:UInt32}`] : []),
  ];
  return conditions.length > 1 ? conditions.map((c) => `(${c})`).join(' AND ') : conditions[0];
}

/** The same over the structured form's ungrouped aggregates: one row, the partition chosen by its source rows. */
function ungroupedRowsOf(vq: ViewQuery, ungrouped: UngroupedTotals): string {
  const where = sourceRowsCondition(vq, ungrouped.partitionSql, vq.timeColumnSql);
  return `(${where === undefined ? ungrouped.select : addCondition(ungrouped.select, where)}\n)`;
}

/**
 * The cutoff of the rows before it. A cutoff missing on one side refuses to render, so a timed job's fill can never
 * lose its cutoff by mistake.
 */
function cutoffParams(vq: ViewQuery, cutoff: number | undefined): Record<string, number> {
  if ((cutoff === undefined) !== (vq.timeColumn === undefined)) {
    throw new Error(`refusing to render a cutoff ${cutoff} with time column ${vq.timeColumn}`);
  }
  return cutoff !== undefined ? { cutoff } : {};
}

/** The cutoff and partition key of one partition's rows (see {@link cutoffParams}). */
function partitionParams(vq: ViewQuery, partitionId: string, cutoff: number | undefined): Record<string, number> {
  return {
    ...cutoffParams(vq, cutoff),
    ...(partitionFunction(vq) ? { partition_key: Number(partitionId) } : {}),
  };
}

/**
 * Output rows of the view before the cutoff (every row of a snapshot, `cutoff` undefined), per target partition: what
 * the backfill must fill. It runs the view's whole query once, the aggregation a fill of every partition runs.
 */
export function selectViewQueryPartitions(
  vq: ViewQuery,
  cutoff: number | undefined,
): Statement<{ id: string; rows: string }> {
  const fn = partitionFunction(vq);
  const id = fn ? `toString(${fn}(${q(vq.orderBy[0])}))` : `'all'`;
  return {
    query: `SELECT ${id} AS id, toString(count()) AS rows FROM (${selectBefore(vq)}\n) GROUP BY id HAVING count() > 0 ORDER BY id`,
    params: cutoffParams(vq, cutoff),
  };
}

/**
 * Creates the target when missing: the job's engine, ORDER BY and partitioning, and the column types ClickHouse
 * gives the user's SELECT (`EMPTY AS` reads no data).
 */
export function createViewQueryTarget(vq: ViewQuery, target: TableRef): Statement {
  const dst = tableParam('target', target);
  const fn = partitionFunction(vq);
  return {
    query: [
      `CREATE TABLE IF NOT EXISTS ${dst.sql}`,
      `ENGINE = ${vq.sign !== undefined ? `CollapsingMergeTree(${q(vq.sign)})` : vq.engine}`,
      ...(fn ? [`PARTITION BY ${fn}(${q(vq.orderBy[0])})`] : []),
      `ORDER BY (${vq.orderBy.map(q).join(', ')})`,
      `EMPTY AS ${vq.select}`,
    ].join('\n'),
    params: dst.params,
  };
}

/**
 * The ranged fill: the view's output rows of one partition before the cutoff (every row of a snapshot, `cutoff`
 * undefined), into the shadow, by column name. The partition filter is on the output's first ORDER BY column, which
 * ClickHouse pushes below the GROUP BY into the read of the source (test/integration/view-fill-pushdown.test.ts), so
 * each fill reads only its partition's rows.
 */
export function insertViewQueryRange(
  vq: ViewQuery,
  into: TableRef,
  columns: string[],
  partitionId: string,
  cutoff: number | undefined,
): Statement {
  const dst = tableParam('into', into);
  const names = columns.map(q).join(', ');
  return {
    query: `INSERT INTO ${dst.sql} (${names})\nSELECT ${names} FROM ${partitionRowsOf(vq)}`,
    params: { ...dst.params, ...partitionParams(vq, partitionId, cutoff) },
  };
}

/** What the validation of a target compares; `plan` shows it and the checks are named after it. */
export type ViewQueryComparison = 'rows and sums' | 'keys and sums' | 'keys' | 'final rows' | 'signed sums';

/** What stays exact in a target of each engine the job may declare (a family name) whatever it merges. */
const COMPARISONS: Record<ViewQuery['engine'], ViewQueryComparison> = {
  MergeTree: 'rows and sums',
  SummingMergeTree: 'keys and sums',
  AggregatingMergeTree: 'keys',
  ReplacingMergeTree: 'final rows',
  CollapsingMergeTree: 'signed sums',
};

/** What stays exact in a target of `engine` whatever it merges, for a view given as SQL. */
export function comparisonFor(engine: ViewQuery['engine']): ViewQueryComparison {
  return COMPARISONS[engine];
}

/**
 * Sentence of `plan` saying what is compared for a target of `engine` (without the distinct keys when `keys` is
 * false: a fast validation with a row-count column).
 */
export function comparisonText(engine: ViewQuery['engine'], { keys = true } = {}): string {
  const states = 'the -Merge total of a sum/count/min/max/uniqExact state';
  switch (comparisonFor(engine)) {
    case 'rows and sums':
      return `rows, and the total of each numeric column (${states}), against the view query over the partition`;
    case 'keys and sums':
      return `${keys ? 'distinct ORDER BY keys, and ' : ''}the total of each numeric non-key column (${states}), against the view query`;
    case 'keys':
      return (
        `${keys ? 'distinct ORDER BY keys, and ' : ''}the total of each sum/count/min/max/uniqExact state column ` +
        '(its -Merge) and SimpleAggregateFunction(sum) column, against the view query (other states are not compared)'
      );
    case 'final rows':
      return 'rows after FINAL (one per ORDER BY key) against the distinct keys of the view query';
    case 'signed sums':
      return (
        'the sum of the sign column (the rows left once collapsed), and the total of each other numeric non-key ' +
        'column times the sign, against the view query'
      );
  }
}

/** Alias of the n-th summed column in both totals queries. */
export const viewQuerySumAlias = (i: number): string => `sum_${i}`;

/** Alias of the n-th merged state column in both totals queries. */
export const viewQueryMergedAlias = (i: number): string => `merged_${i}`;

/**
 * What both totals queries read besides the rows: the distinct keys (when compared), the sum of each of `sums`, and
 * each of `merged`, an `AggregateFunction` column, merged whole with `<fn>Merge` (`fn` read from the column's type
 * by {@link mergedAggregateOf}).
 */
export interface ViewQueryTotalsReads {
  keys: boolean;
  sums: string[];
  merged: { column: string; fn: string }[];
}

/**
 * The aggregates whose states validation merges whole: those whose merged total is exact, however the states were
 * split over rows, parts and blocks.
 */
const MERGED_AGGREGATE = /^(?:sum|count|min|max|uniqExact)(?:If)?$/;

/** The aggregate of an `AggregateFunction(fn, …)` column type when its states merge exactly; else undefined. */
export function mergedAggregateOf(type: string): string | undefined {
  const fn = /^AggregateFunction\((\w+)[,)]/.exec(type)?.[1];
  return fn !== undefined && MERGED_AGGREGATE.test(fn) ? fn : undefined;
}

/**
 * The columns both totals queries read: rows, and {@link ViewQueryTotalsReads}; for a collapsing target (`sign`)
 * each row weighs its sign, so rows are `sum(sign)` and a total `sum(c * sign)`: what stays of them once the target
 * collapses each `-1` row with its `+1` row, whatever it has merged.
 */
export function viewQueryTotalsColumns(vq: Pick<ViewQuery, 'orderBy' | 'sign'>, reads: ViewQueryTotalsReads): string[] {
  const weighed = (c: string) => (vq.sign === undefined ? q(c) : `${q(c)} * ${q(vq.sign)}`);
  return [
    vq.sign === undefined ? 'toString(count()) AS rows' : `toString(sum(${q(vq.sign)})) AS rows`,
    ...(reads.keys ? [`toString(uniqExact(${vq.orderBy.map(q).join(', ')})) AS keys`] : []),
    ...reads.sums.map((c, i) => `toString(sum(${weighed(c)})) AS ${viewQuerySumAlias(i)}`),
    ...reads.merged.map(({ column, fn }, i) => {
      // `fn` came from a column type: only the aggregates MERGED_AGGREGATE names are ever rendered.
      if (!MERGED_AGGREGATE.test(fn)) throw new Error(`refusing to merge ${fn} states`);
      return `toString(${fn}Merge(${q(column)})) AS ${viewQueryMergedAlias(i)}`;
    }),
  ];
}

/**
 * The totals validation compares, of the view query's output rows of one partition before the cutoff (every row of
 * a snapshot, `cutoff` undefined; see {@link viewQueryTotalsColumns}). Without keys to compare, the structured
 * form's ungrouped aggregates give the same totals by a plain scan ({@link UngroupedTotals}); `rows` is then 1.
 */
export function selectViewQueryTotals(
  vq: ViewQuery,
  reads: ViewQueryTotalsReads,
  partitionId: string,
  cutoff: number | undefined,
): Statement<Record<string, string>> {
  // Keys or rows compared need the grouped query's output rows.
  const plain = !reads.keys && ['keys', 'keys and sums'].includes(comparisonFor(vq.engine));
  const rows = plain && vq.ungrouped ? ungroupedRowsOf(vq, vq.ungrouped) : partitionRowsOf(vq);
  return {
    query: `SELECT ${viewQueryTotalsColumns(vq, reads).join(', ')} FROM ${rows}`,
    params: partitionParams(vq, partitionId, cutoff),
  };
}

/** The same totals of one partition of a table (the shadow); `final`: read after `FINAL` (a Replacing target). */
export function selectViewQueryTableTotals(
  vq: ViewQuery,
  reads: ViewQueryTotalsReads,
  table: TableRef,
  partitionId: string,
  final: boolean,
): Statement<Record<string, string>> {
  const t = tableParam('table', table);
  return {
    query: `SELECT ${viewQueryTotalsColumns(vq, reads).join(', ')} FROM ${t.sql}${final ? ' FINAL' : ''} WHERE _partition_id = {partition_id:String}`,
    params: { ...t.params, partition_id: partitionId },
  };
}

/** The query's Null-fill part; refuses a query without one (a view given as SQL). */
function nullFillOf(vq: ViewQuery): NullFillQuery {
  if (vq.nullFill === undefined) {
    throw new Error('a Null-engine fill needs the source columns the view reads: only the structured form gives them');
  }
  return vq.nullFill;
}

/** A Null-engine table with only the source columns the view reads (the guide's tuning section). */
export function createNullFillTable(vq: ViewQuery, table: TableRef, source: TableRef): Statement {
  const t = tableParam('table', table);
  const src = tableParam('source', source);
  return {
    query: `CREATE TABLE ${t.sql} ENGINE = Null EMPTY AS SELECT ${nullFillOf(vq).sourceColumns.map(q).join(', ')} FROM ${src.sql}`,
    params: { ...t.params, ...src.params },
  };
}

/**
 * A Null-engine table with every column of the source (`CREATE TABLE t AS source ENGINE = Null`): where no
 * `CREATE … AS SELECT` may be sent (a replicated cluster); the fill inserts only the columns the view reads.
 */
export function createNullFillTableLike(table: TableRef, source: TableRef): Statement {
  const t = tableParam('table', table);
  return { query: `CREATE TABLE ${t.sql} AS ${quotedTable(source)} ENGINE = Null`, params: t.params };
}

/** The copy of the view that aggregates each block inserted into the Null table into the shadow. */
export function createNullFillView(vq: ViewQuery, view: TableRef, shadow: TableRef): Statement {
  return {
    query: `CREATE MATERIALIZED VIEW ${quotedTable(view)} TO ${quotedTable(shadow)}\nAS ${nullFillOf(vq).select}`,
    params: {},
  };
}

/**
 * The Null-engine fill: streams one partition's source rows before the cutoff (every row of a snapshot, `cutoff`
 * undefined) into the Null table, block by block; the view's filter is the view copy's. A cutoff missing on one
 * side refuses to render, so a timed job's fill can never lose its cutoff by mistake.
 */
export function insertNullFill(
  vq: ViewQuery,
  source: TableRef,
  nullTable: TableRef,
  partitionId: string,
  cutoff: number | undefined,
): Statement {
  const params = partitionParams(vq, partitionId, cutoff);
  const { sourceColumns, partitionSql } = nullFillOf(vq);
  const src = tableParam('source', source);
  const dst = tableParam('into', nullTable);
  const where = sourceRowsCondition(vq, partitionSql);
  const columns = sourceColumns.map(q).join(', ');
  return {
    query: [
      `INSERT INTO ${dst.sql} (${columns})`,
      `SELECT ${columns} FROM ${src.sql}`,
      ...(where !== undefined ? [`WHERE ${where}`] : []),
    ].join('\n'),
    params: { ...src.params, ...dst.params, ...params },
  };
}
