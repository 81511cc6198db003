import type { Statement } from '../../clickhouse/statement';
import type { ViewJob } from '../../shared/job-spec';
import {
  columnsOf,
  parseAggregateMetric,
  parseExpression,
  type AggregateMetric,
  type Expr,
} from '../../shared/expression-syntax';
import { renderAggregate, renderExpression, renderStateAggregate, type ColumnRenderer } from '../engine/expression';
import { quoteAllowListedIdentifier as q } from '../engine/quote-identifier';
import { quotedTable, tableParam } from '../engine/table-param';
import type { TableRef } from '../../shared/table-ref';

/**
 * The structured form of a `kind: view` job (groupBy + aggregates, the ClickHouse guide's scenario 2: a materialized
 * view added to a table that already holds data), parsed into a {@link ViewShape} and rendered as the SELECT it is
 * shorthand for ({@link shorthandSelect}), with what a Null-engine fill needs besides ({@link shorthandNullFill}).
 * Everything else (the live view, the target, the listing, the fills, the validation) the SQL path renders from that
 * text (src/sql/view/view-sql.ts). Also the statements every view job shares: the comparison with an existing view,
 * the move of a partition into the target, a view's drop.
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
function viewSourceColumns(shape: ViewShape): string[] {
  const exprs = [
    ...shape.groupBy.map((g) => g.expr),
    ...shape.aggregates.flatMap((a) => [...a.metric.params, ...a.metric.args]),
    ...(shape.where ? [shape.where] : []),
  ];
  return [...new Set(exprs.flatMap(columnsOf))];
}

/** Whether a SummingMergeTree can add up the aggregate's outputs (`count`, `sum`). */
export const isAdditive = (metric: AggregateMetric): boolean =>
  (metric.fn === 'sum' || metric.fn === 'count') && metric.params.length === 0;

/** The outputs that count the source rows of their group (`count()` aggregates), in table order. */
export function rowCountColumns(shape: ViewShape): string[] {
  return shape.aggregates
    .filter((a) => a.metric.fn === 'count' && a.metric.params.length === 0 && a.metric.args.length === 0)
    .map((a) => a.name);
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
 * `SELECT <groupBy> AS …, <aggregates> AS … FROM <from> WHERE <the view's filter> GROUP BY …`, `from` by its
 * allow-listed name (a view stores its SELECT as text); not `grouped`, the aggregates alone over every row.
 */
function renderSelect(shape: ViewShape, from: TableRef, grouped = true): string {
  const column = sourceColumns(shape, from);
  const columns = [
    ...(grouped ? shape.groupBy.map((g) => `${renderExpression(g.expr, column)} AS ${q(g.name)}`) : []),
    ...shape.aggregates.map((a) => `${renderStored(shape, a.metric, column)} AS ${q(a.name)}`),
  ];
  return [
    `SELECT ${columns.join(', ')}`,
    `FROM ${quotedTable(from)}`,
    ...(shape.where ? [`WHERE ${renderExpression(shape.where, column)}`] : []),
    ...(grouped ? [`GROUP BY ${shape.groupBy.map((g) => q(g.name)).join(', ')}`] : []),
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
 * The structured form's aggregates over all the source rows of a partition at once (see {@link shorthandUngrouped}).
 */
export interface UngroupedTotals {
  /** The SELECT without its groupBy columns and GROUP BY: one row, each aggregate over every row it reads. */
  select: string;
  /** The first groupBy expression over a source row, as that SELECT reads it: the partition the row's output is in. */
  partitionSql: string;
}

/**
 * The same totals validation reads of the grouped query (a `sum`/`count` column's sum, an exact state's `-Merge`),
 * without the GROUP BY: each of those adds up across groups, so one row over the partition's source rows holds
 * them, read by a plain scan. Only the structured form knows its SELECT well enough to drop the grouping.
 */
export function shorthandUngrouped(shape: ViewShape, source: TableRef): UngroupedTotals {
  return {
    select: renderSelect(shape, source, false),
    partitionSql: renderExpression(shape.groupBy[0].expr, sourceColumns(shape, source)),
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
