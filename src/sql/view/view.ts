import type { Statement } from '../../clickhouse/statement';
import type { ViewJob } from '../../shared/job-spec';
import {
  columnsOf,
  parseAggregateMetric,
  parseExpression,
  type AggregateMetric,
  type Expr,
} from '../../shared/expression-syntax';
import {
  renderAggregate,
  renderExpression,
  renderMergeAggregate,
  renderStateAggregate,
  type ColumnRenderer,
} from '../engine/expression';
import { quoteAllowListedIdentifier as q } from '../engine/quote-identifier';
import { quotedTable, tableParam } from '../engine/table-param';
import type { TableRef } from '../../shared/table-ref';

/**
 * The statements of a `kind: view` job in the structured form (the ClickHouse guide's scenario 2: a materialized
 * view added to a table that already holds data). Every one renders the view's SELECT from the same parsed
 * {@link ViewShape}, so the live view, the fill and the checks cannot drift apart; the live view, the target and the
 * fill (ranged or through the Null engine) are rendered by the SQL path (src/sql/view/view-sql.ts) from
 * {@link shorthandSelect} and {@link shorthandNullFill}.
 */

/** A view job's SELECT, parsed: what every statement about it is rendered from. */
export interface ViewShape {
  groupBy: { name: string; expr: Expr }[];
  aggregates: { name: string; metric: AggregateMetric }[];
  where?: Expr;
  /** The column the cutoff applies to; none for a snapshot job, whose view and fill read every row. */
  timeColumn?: string;
  engine: 'SummingMergeTree' | 'AggregatingMergeTree';
  partitionBy: ViewJob['target']['partitionBy'];
}

/** Parses the job's groupBy, aggregates and where; throws the parser's error for the first bad one. */
export function viewShape(job: ViewJob): ViewShape {
  if (job.groupBy === undefined || job.aggregates === undefined) {
    throw new Error('the view is given as SQL, not as groupBy + aggregates (src/sql/view/view-sql.ts renders it)');
  }
  return {
    groupBy: Object.entries(job.groupBy).map(([name, text]) => ({ name, expr: parseExpression(text) })),
    aggregates: Object.entries(job.aggregates).map(([name, text]) => ({ name, metric: parseAggregateMetric(text) })),
    where: job.where === undefined ? undefined : parseExpression(job.where),
    timeColumn: job.source.timeColumn,
    engine: job.target.engine === 'AggregatingMergeTree' ? 'AggregatingMergeTree' : 'SummingMergeTree',
    partitionBy: job.target.partitionBy,
  };
}

/** The output columns in table order: groupBy columns, then aggregates. */
export function viewColumns(shape: ViewShape): string[] {
  return [...shape.groupBy.map((g) => g.name), ...shape.aggregates.map((a) => a.name)];
}

/** The source columns the view reads (what a Null-engine fill table needs), in first-seen order. */
export function viewSourceColumns(shape: ViewShape): string[] {
  const exprs = [
    ...shape.groupBy.map((g) => g.expr),
    ...shape.aggregates.flatMap((a) => [...a.metric.params, ...a.metric.args]),
    ...(shape.where ? [shape.where] : []),
  ];
  return [...new Set(exprs.flatMap(columnsOf))];
}

/** Aggregates whose total over output rows equals the same aggregate over the source rows (`count`, `sum`). */
export function additiveAggregates(shape: ViewShape): ViewShape['aggregates'] {
  return shape.aggregates.filter(
    (a) => (a.metric.fn === 'sum' || a.metric.fn === 'count') && a.metric.params.length === 0,
  );
}

/** The partition function of the target (an allow-listed literal), or undefined for an unpartitioned one. */
function partitionFunction(shape: ViewShape): 'toYYYYMM' | 'toYYYYMMDD' | undefined {
  if (shape.partitionBy === 'none') return undefined;
  return shape.partitionBy === 'month' ? 'toYYYYMM' : 'toYYYYMMDD';
}

/** The target's partition key over output columns, as `system.tables.partition_key` shows it ('' when none). */
export function viewPartitionKey(shape: ViewShape): string {
  const fn = partitionFunction(shape);
  return fn ? `${fn}(${shape.groupBy[0].name})` : '';
}

/** The id ClickHouse gives the one partition of an unpartitioned table. */
export const UNPARTITIONED_ID = 'all';

/**
 * Where the rows of one target partition come from: the partition function over the first groupBy expression of
 * the source row (exactly the partition its output row lands in); nothing for an unpartitioned target.
 */
function partitionFilter(shape: ViewShape): string[] {
  const fn = partitionFunction(shape);
  return fn ? [`${fn}(${renderExpression(shape.groupBy[0].expr)}) = {partition_key:UInt32}`] : [];
}

function partitionParams(shape: ViewShape, partitionId: string): Record<string, number> {
  return partitionFunction(shape) ? { partition_key: Number(partitionId) } : {};
}

const renderStored = (shape: ViewShape, metric: AggregateMetric, column: ColumnRenderer): string =>
  shape.engine === 'AggregatingMergeTree' ? renderStateAggregate(metric, column) : renderAggregate(metric, column);

/**
 * The aggregates' output names that the rest of the SELECT reads as source columns: in ClickHouse an alias stands
 * for the column of its name in WHERE (the filter, the cutoff) and in the other columns, so `bytes: sum(bytes)`
 * beside `where: bytes > 0` would filter on the sum. Within its own aggregate the name is the column.
 */
function capturedColumns(shape: ViewShape): Set<string> {
  const readElsewhere = (skip: number): string[] => [
    ...shape.groupBy.flatMap((g) => columnsOf(g.expr)),
    ...shape.aggregates.flatMap((a, i) =>
      i === skip ? [] : [...a.metric.params, ...a.metric.args].flatMap(columnsOf),
    ),
    ...(shape.where ? columnsOf(shape.where) : []),
    ...(shape.timeColumn !== undefined ? [shape.timeColumn] : []),
  ];
  return new Set(shape.aggregates.filter((a, i) => readElsewhere(i).includes(a.name)).map((a) => a.name));
}

/**
 * Column references of a SELECT with the view's output aliases, reading `from`: a source column an output alias
 * would capture ({@link capturedColumns}) is qualified with the table's name (`` `pypi`.`bytes` ``); any other is
 * read plainly, so a job without such a name renders as it always did.
 */
function sourceColumns(shape: ViewShape, from: TableRef): ColumnRenderer {
  const captured = capturedColumns(shape);
  return (name) => (captured.has(name) ? `${q(from.name)}.${q(name)}` : q(name));
}

/**
 * The cutoff condition `<time> <op> <cutoff>` of a job with a time column. A snapshot job (no time column) has
 * none: its fill reads the whole snapshot. A cutoff missing on one side refuses to render, so a timed job's fill
 * can never lose its cutoff by mistake.
 */
function cutoffCondition(shape: ViewShape, cutoff: number | undefined, render: (time: string) => string): string[] {
  if ((cutoff === undefined) !== (shape.timeColumn === undefined)) {
    throw new Error(`refusing to render a cutoff ${cutoff} with time column ${shape.timeColumn}`);
  }
  return shape.timeColumn === undefined ? [] : [render(q(shape.timeColumn))];
}

/** `WHERE c`, `WHERE (c1) AND (c2) …`, or nothing without conditions. */
const whereClause = (conditions: string[]): string[] => {
  if (conditions.length === 0) return [];
  return [`WHERE ${conditions.length === 1 ? conditions[0] : conditions.map((w) => `(${w})`).join(' AND ')}`];
};

/**
 * `SELECT <groupBy> AS …, <aggregates> AS … FROM <from> WHERE <the view's filter> GROUP BY …`, `from` by its
 * allow-listed name (a view stores its SELECT as text).
 */
function renderSelect(shape: ViewShape, from: TableRef): string {
  const column = sourceColumns(shape, from);
  const columns = [
    ...shape.groupBy.map((g) => `${renderExpression(g.expr, column)} AS ${q(g.name)}`),
    ...shape.aggregates.map((a) => `${renderStored(shape, a.metric, column)} AS ${q(a.name)}`),
  ];
  const where = shape.where ? [renderExpression(shape.where, column)] : [];
  return [
    `SELECT ${columns.join(', ')}`,
    `FROM ${quotedTable(from)}`,
    ...whereClause(where),
    `GROUP BY ${shape.groupBy.map((g) => q(g.name)).join(', ')}`,
  ].join('\n');
}

/**
 * The structured form written as the SQL a job could give in `select:`: its SELECT over the source (its name
 * through the allow-list, as a view stores its SELECT as text), without a cutoff, and the time column as that
 * SELECT reads it (qualified with the table where an output alias would capture it). The SQL path
 * (src/sql/view/view-sql.ts) adds the cutoff to it and renders the live view and the target from it.
 */
export function shorthandSelect(shape: ViewShape, source: TableRef): { select: string; timeColumnSql?: string } {
  const column = sourceColumns(shape, source);
  return {
    select: renderSelect(shape, source),
    ...(shape.timeColumn !== undefined ? { timeColumnSql: column(shape.timeColumn) } : {}),
  };
}

/**
 * What a Null-engine fill of a view query needs beyond its SELECT, rendered from the structured form
 * ({@link shorthandNullFill}): a SELECT given as SQL does not say which source columns it reads.
 */
export interface NullFillQuery {
  /** The source columns the SELECT reads: the Null table's columns, in first-seen order. */
  sourceColumns: string[];
  /** The first ORDER BY column's expression over a source row: where the row's output lands. */
  partitionSql: string;
  /** The SELECT reading the Null table instead of the source: the Null fill's copy of the view. */
  select: string;
}

/**
 * What the SQL path's Null-engine fill (src/sql/view/view-sql.ts) needs of the structured form, which only it
 * knows: the source columns its SELECT reads, its first groupBy expression over a source row (the partition the
 * row's output lands in), and its SELECT reading the Null table instead of the source.
 */
export function shorthandNullFill(shape: ViewShape, nullTable: TableRef): NullFillQuery {
  return {
    sourceColumns: viewSourceColumns(shape),
    partitionSql: renderExpression(shape.groupBy[0].expr),
    select: renderSelect(shape, nullTable),
  };
}

/**
 * An existing view's definition next to ours, both normalised by the server (`formatQuerySingleLine` drops our
 * backticks the way the stored `as_select` has them dropped): same text means the same view. No row: no view.
 */
export function selectViewDefinition(
  view: TableRef,
  expectedSelect: string,
): Statement<{ engine: string; target_database: string; target_table: string; stored: string; expected: string }> {
  return {
    query: [
      'SELECT engine, target_database, target_table, formatQuerySingleLine(as_select) AS stored,',
      '  formatQuerySingleLine({expected:String}) AS expected',
      'FROM system.tables WHERE database = {db:String} AND name = {name:String}',
    ].join('\n'),
    params: { db: view.database, name: view.name, expected: expectedSelect },
  };
}

/** One expression alone over the source, for DESCRIBE: learns its type and whether ClickHouse accepts it. */
export function selectExpression(expr: Expr, alias: string, source: TableRef): Statement<Record<string, unknown>> {
  const src = tableParam('source', source);
  return { query: `SELECT ${renderExpression(expr)} AS ${q(alias)} FROM ${src.sql}`, params: src.params };
}

/**
 * Rows before the cutoff (every row of a snapshot, `cutoff` undefined) passing the view's filter, per target
 * partition: what the backfill must fill.
 */
export function selectViewPartitions(
  shape: ViewShape,
  source: TableRef,
  cutoff: number | undefined,
): Statement<{ id: string; rows: string }> {
  const src = tableParam('source', source);
  const fn = partitionFunction(shape);
  const where = [
    ...(shape.where ? [renderExpression(shape.where)] : []),
    ...cutoffCondition(shape, cutoff, (time) => `${time} < toDateTime({cutoff:UInt32})`),
  ];
  const id = fn ? `toString(${fn}(${renderExpression(shape.groupBy[0].expr)}))` : '{all:String}';
  return {
    query: [
      `SELECT ${id} AS id, toString(count()) AS rows FROM ${src.sql}`,
      ...whereClause(where),
      'GROUP BY id HAVING count() > 0 ORDER BY id',
    ].join('\n'),
    params: { ...src.params, ...cutoffParam(cutoff), ...(fn ? {} : { all: UNPARTITIONED_ID }) },
  };
}

const cutoffParam = (cutoff: number | undefined): Record<string, number> => (cutoff === undefined ? {} : { cutoff });

/**
 * The source rows of one target partition before the cutoff (all of them for a snapshot), as `WHERE` conditions
 * of the fill and its checks.
 */
function fillConditions(shape: ViewShape, cutoff: number | undefined): string[] {
  return [
    ...cutoffCondition(shape, cutoff, (time) => `${time} < toDateTime({cutoff:UInt32})`),
    ...partitionFilter(shape),
  ];
}

/** Column alias of the n-th additive aggregate's total in both totals queries. */
export const viewTotalAlias = (i: number): string => `total_${i}`;

/**
 * Totals of one partition's source rows before the cutoff (all of a snapshot's) passing the view's filter: rows,
 * distinct groups (the rows the target holds once merged; without `groups`, not read) and each additive aggregate.
 */
export function selectViewSourceTotals(
  shape: ViewShape,
  source: TableRef,
  partitionId: string,
  cutoff: number | undefined,
  groups = true,
): Statement<Record<string, string>> {
  const src = tableParam('source', source);
  const columns = [
    'toString(count()) AS rows',
    ...(groups
      ? [`toString(uniqExact(${shape.groupBy.map((g) => renderExpression(g.expr)).join(', ')})) AS groups`]
      : []),
    ...additiveAggregates(shape).map((a, i) => `toString(${renderAggregate(a.metric)}) AS ${viewTotalAlias(i)}`),
  ];
  const where = [...(shape.where ? [renderExpression(shape.where)] : []), ...fillConditions(shape, cutoff)];
  return {
    query: [`SELECT ${columns.join(', ')} FROM ${src.sql}`, ...whereClause(where)].join(' '),
    params: { ...src.params, ...cutoffParam(cutoff), ...partitionParams(shape, partitionId) },
  };
}

/**
 * The same totals of one partition of a view table (the shadow), whatever its merge state: distinct groups (unless
 * `groups` is false), and each additive aggregate summed (`-Merge` for AggregatingMergeTree states); also the rows
 * its parts hold (`rows`: `count()` without `FINAL`, what `system.parts` sums), so validation needs no count of its own.
 */
export function selectViewTableTotals(
  shape: ViewShape,
  table: TableRef,
  partitionId: string,
  groups = true,
): Statement<Record<string, string>> {
  const t = tableParam('table', table);
  const columns = [
    'toString(count()) AS rows',
    ...(groups ? [`toString(uniqExact(${shape.groupBy.map((g) => q(g.name)).join(', ')})) AS groups`] : []),
    ...additiveAggregates(shape).map((a, i) => {
      const total =
        shape.engine === 'AggregatingMergeTree' ? renderMergeAggregate(a.metric, a.name) : `sum(${q(a.name)})`;
      return `toString(${total}) AS ${viewTotalAlias(i)}`;
    }),
  ];
  return {
    query: `SELECT ${columns.join(', ')} FROM ${t.sql} WHERE _partition_id = {partition_id:String}`,
    params: { ...t.params, partition_id: partitionId },
  };
}

/**
 * Moves one partition's parts from the shadow into the live target (the guide's `MOVE PARTITION`): atomic, adds
 * them to what the live view wrote there, and leaves the shadow without them, so repeating it moves nothing more.
 * The table after `TO TABLE` takes no query parameter: it goes through the allow-list quoting.
 */
export function movePartitionTo(shadow: TableRef, target: TableRef, partitionId: string): Statement {
  const from = tableParam('shadow', shadow);
  return {
    query: `ALTER TABLE ${from.sql} MOVE PARTITION ID {partition_id:String} TO TABLE ${quotedTable(target)}`,
    params: { ...from.params, partition_id: partitionId },
  };
}

/** `DROP VIEW IF EXISTS` (the Null-engine fill's view copy; also how a test removes a live view). */
export function dropViewIfExists(view: TableRef): Statement {
  const t = tableParam('view', view);
  return { query: `DROP VIEW IF EXISTS ${t.sql} SYNC`, params: t.params };
}
