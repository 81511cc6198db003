import type { ClickHouse } from '../../clickhouse/clickhouse';
import { isClickHouseError } from '../../clickhouse/clickhouse-error';
import { engineFamily, engineFamilyArguments } from '../../clickhouse/engine-family';
import type { Statement } from '../../clickhouse/statement';
import { functionRefusal } from '../../shared/function-allow-list';
import type { ViewJob } from '../../shared/job-spec';
import { qualifiedName, type TableRef } from '../../shared/table-ref';
import { selectTableColumns, selectTableInfo, type TableColumn } from '../../sql/engine/introspection';
import { parseCreateViewText, ViewSelectError } from '../../sql/view/select-condition';
import {
  comparisonText,
  describeViewQuery,
  explainViewQuery,
  liveViewQuerySelect,
  selectViewQueryPartitions,
  viewQuery,
  viewQueryPartitionKey,
  type TimedViewQuery,
  type ViewQuery,
} from '../../sql/view/view-sql';
import { selectPartitionRowsBetween } from '../../sql/engine/partition-ops';
import type { PartitionPlan } from '../../shared/backfill-results';
import { partitionFromId } from '../../shared/partitions';
import { refuseChainedTarget } from './refuse-chained-target';
import { JobSpecError } from '../engine/errors';
import { readSelectAst } from './select-ast';
import { rowCountColumns, viewShape } from '../../sql/view/view';

/** The job field a view given as SQL is blamed on. */
const sqlField = (job: ViewJob): string => (job.select !== undefined ? 'select' : 'sql');

/** Runs a read of the job's SQL; ClickHouse refusing it is blamed on `field`, where the job gave that SQL. */
export async function rowsOfViewSql<Row>(ch: ClickHouse, field: string, st: Statement<Row>): Promise<Row[]> {
  try {
    return await ch.rows(st);
  } catch (err) {
    if (isClickHouseError(err)) {
      throw new JobSpecError(field, `ClickHouse refused it: ${err.message}`, { cause: err });
    }
    throw err;
  }
}

/**
 * Where a view job's SQL came from, for the checks both forms share: the field its refusals name (`select`, `sql`,
 * or the structured form's `aggregates`), what the partition column is called there, and whether an existing
 * target must have exactly the output's columns and types (the structured form's target is the job's own).
 */
export interface ViewSqlForm {
  field: string;
  keyField: 'groupBy' | 'orderBy';
  exactColumns: boolean;
}

/** The view and `TO` table a `.sql` file names must be the job's (a name without database: the name alone). */
function checkCreateViewNames(job: ViewJob, tables: { view: TableRef; target: TableRef }): void {
  if (job.sql === undefined) return;
  const text = parseCreateViewText(job.sql);
  const same = (written: string, ref: TableRef) =>
    written.includes('.') ? written === qualifiedName(ref) : written === ref.name;
  if (!same(text.view, tables.view)) {
    throw new JobSpecError(
      'sql',
      `the file creates the view ${text.view}, the job names ${qualifiedName(tables.view)}`,
    );
  }
  if (!same(text.target, tables.target)) {
    throw new JobSpecError(
      'sql',
      `the file's view writes ${text.target}, the job's target is ${qualifiedName(tables.target)}`,
    );
  }
}

/**
 * What the user's SELECT reads and calls, from the server's parse: exactly one SELECT, reading the source (and
 * only the job's `dimensions` besides it, tables or dictionaries), no table function, every function allowed,
 * and no output alias hiding the time column (the cutoff condition would read the alias).
 */
async function checkSelectAst(
  ch: ClickHouse,
  job: ViewJob,
  vq: ViewQuery,
  resolve: (name: string) => TableRef,
  source: TableRef,
  field: string,
): Promise<void> {
  const ast = readSelectAst(
    (await rowsOfViewSql(ch, field, explainViewQuery(vq))).map((r) => (typeof r === 'string' ? r : r.explain)),
  );
  if (ast.selects !== 1) {
    throw new JobSpecError(field, `found ${ast.selects} SELECTs (a UNION or a subquery); a view job takes exactly one`);
  }
  if (ast.tableFunctions.length > 0) {
    throw new JobSpecError(
      field,
      `reads the table function ${ast.tableFunctions[0]}(); the view must read ${qualifiedName(source)}`,
    );
  }
  const dimensions = new Set(job.dimensions.map((d) => qualifiedName(resolve(d))));
  const read = ast.tables.map((t) => qualifiedName(resolve(t)));
  if (read[0] !== qualifiedName(source)) {
    throw new JobSpecError(
      field,
      `reads ${read[0] ?? 'no table'}, not the source ${qualifiedName(source)} (a view fires on inserts into the table after its first FROM)`,
    );
  }
  for (const name of [...read.slice(1), ...ast.dictionaries.map((d) => qualifiedName(resolve(d)))]) {
    if (!dimensions.has(name)) {
      throw new JobSpecError(
        field,
        `reads ${name} besides the source; list it in dimensions: (it is read as it is at fill time, not as it was when the rows arrived)`,
      );
    }
  }
  for (const fn of ast.functions) {
    const refusal = functionRefusal(fn, job.allowFunctions);
    if (refusal) throw new JobSpecError(field, refusal);
  }
  // The structured form reads a time column an alias hides qualified (`timeColumnSql`); none to check for a snapshot.
  const time = vq.timeColumnSql === undefined ? vq.timeColumn : undefined;
  const hiding = ast.aliases.find((a) => a.alias === time && a.node !== `Identifier ${time}`);
  if (hiding) {
    throw new JobSpecError(
      field,
      `the output "${time}" (${hiding.node}) hides the time column ${time} the cutoff applies to; name the output otherwise`,
    );
  }
}

/**
 * The source's columns, once it exists and its time column (when the job has one) is a DateTime; `hint`, where
 * given, ends a refusal of the time column (the setup that fits a source without one).
 */
export async function checkSourceTime(
  ch: ClickHouse,
  source: TableRef,
  time: string | undefined,
  hint?: string,
): Promise<TableColumn[]> {
  const columns = await ch.rows(selectTableColumns(source));
  if (columns.length === 0) throw new JobSpecError('source.table', `table ${qualifiedName(source)} does not exist`);
  if (time === undefined) return columns;
  const ending = hint ?? '';
  const type = columns.find((c) => c.name === time)?.type;
  if (type === undefined) {
    const has = columns.map((c) => c.name).join(', ');
    throw new JobSpecError(
      'source.timeColumn',
      `column "${time}" does not exist in ${qualifiedName(source)} (it has: ${has})${ending && `; ${ending}`}`,
    );
  }
  if (!/^DateTime(64)?(\(.*\))?$/.test(type)) {
    throw new JobSpecError(
      'source.timeColumn',
      `"${time}" is ${type}; the cutoff needs a DateTime${ending && ` (${ending})`}`,
    );
  }
  return columns;
}

/**
 * The ORDER BY columns are outputs of the SELECT, the partition column a date, and a collapsing target's sign an
 * `Int8` output.
 */
function checkOrderBy(vq: ViewQuery, output: TableColumn[], keyField: ViewSqlForm['keyField']): void {
  const types = new Map(output.map((c) => [c.name, c.type]));
  if (vq.sign !== undefined && types.get(vq.sign) !== 'Int8') {
    throw new JobSpecError(
      'target.engine',
      `the sign column "${vq.sign}" must be an Int8 output of the SELECT (it has: ${output.map((c) => `${c.name} ${c.type}`).join(', ')})`,
    );
  }
  for (const name of vq.orderBy) {
    if (!types.has(name)) {
      throw new JobSpecError(
        'target.orderBy',
        `"${name}" is no output of the SELECT (it has: ${[...types.keys()].join(', ')})`,
      );
    }
  }
  const first = types.get(vq.orderBy[0])!;
  if (vq.partitionBy !== 'none' && !/^(Date|Date32|DateTime|DateTime64)(\(.*\))?$/.test(first)) {
    throw new JobSpecError(
      'target.partitionBy',
      `partitions are by the first ${keyField} column, "${vq.orderBy[0]}", which is ${first}, not a date`,
    );
  }
}

/**
 * An existing target: of the job's engine family, keys and partitioning, with a column for every output (exactly
 * the output's columns and types, with `exactColumns`).
 */
async function checkExistingQueryTarget(
  ch: ClickHouse,
  vq: ViewQuery,
  target: TableRef,
  output: TableColumn[],
  exactColumns: boolean,
): Promise<boolean> {
  const [info] = await ch.rows(selectTableInfo(target));
  if (!info) return false;
  const differs = (what: string, actual: string, wanted: string) =>
    new JobSpecError('target.table', `${qualifiedName(target)} has ${what} "${actual}", the job needs "${wanted}"`);
  if (engineFamily(info.engine) !== vq.engine) throw differs('engine', info.engine, vq.engine);
  const sign = engineFamilyArguments(info.engine_full)
    .at(-1)
    ?.replace(/^`(.*)`$/, '$1');
  if (vq.sign !== undefined && sign !== vq.sign) throw differs('sign column', sign ?? '', vq.sign);
  if (info.partition_key !== viewQueryPartitionKey(vq)) {
    throw differs('partition key', info.partition_key, viewQueryPartitionKey(vq));
  }
  const order = vq.orderBy.join(', ');
  const sortingKey = info.sorting_key.replace(/^\((.*)\)$/, '$1');
  if (sortingKey !== order) throw differs('sorting key', info.sorting_key, order);
  const actual = await ch.rows(selectTableColumns(target));
  const render = (cols: TableColumn[]) => cols.map((c) => `${c.name} ${c.type}`).join(', ');
  if (exactColumns && render(actual) !== render(output)) throw differs('columns', render(actual), render(output));
  const columns = new Set(actual.map((c) => c.name));
  const missing = output.filter((c) => !columns.has(c.name)).map((c) => c.name);
  if (missing.length > 0) {
    throw new JobSpecError(
      'target.table',
      `${qualifiedName(target)} has no column ${missing.join(', ')} the SELECT outputs`,
    );
  }
  return true;
}

/**
 * The checks of a view's SQL both forms share, before any DDL: the server's parse of the SELECT (one SELECT, what it
 * reads and calls), its output columns and the ORDER BY, and an existing target. Returns the output columns and
 * whether the target exists.
 */
export async function checkViewSql(
  ch: ClickHouse,
  job: ViewJob,
  vq: ViewQuery,
  resolve: (name: string) => TableRef,
  tables: { source: TableRef; target: TableRef },
  form: ViewSqlForm,
): Promise<{ columns: string[]; targetExisted: boolean }> {
  await checkSelectAst(ch, job, vq, resolve, tables.source, form.field);
  const output = await rowsOfViewSql(ch, form.field, describeViewQuery(vq));
  checkOrderBy(vq, output, form.keyField);
  const targetExisted = await checkExistingQueryTarget(ch, vq, tables.target, output, form.exactColumns);
  if (targetExisted) await refuseChainedTarget(ch, tables.target);
  return { columns: output.map((c) => c.name), targetExisted };
}

/**
 * Every check of a view job given as SQL, before any DDL: the file's names, the cutoff insertion (a test run of
 * the rewriting), the time column, then {@link checkViewSql}.
 */
export async function checkViewQueryJob(
  ch: ClickHouse,
  job: ViewJob,
  vq: TimedViewQuery,
  resolve: (name: string) => TableRef,
  tables: { source: TableRef; target: TableRef; view: TableRef },
): Promise<{ columns: string[]; targetExisted: boolean }> {
  try {
    checkCreateViewNames(job, tables);
    liveViewQuerySelect(vq, 1);
  } catch (err) {
    if (err instanceof ViewSelectError) throw new JobSpecError(sqlField(job), err.message, { cause: err });
    throw err;
  }
  await checkSourceTime(ch, tables.source, vq.timeColumn);
  return checkViewSql(ch, job, vq, resolve, tables, { field: sqlField(job), keyField: 'orderBy', exactColumns: false });
}

/**
 * The target partitions the view's output rows before the cutoff (all of them for a snapshot, `cutoff` undefined)
 * land in, with those rows and the live rows the target holds now; one `all` partition for an unpartitioned target.
 * Read-only.
 */
export async function viewQueryPartitions(
  ch: ClickHouse,
  vq: ViewQuery,
  target: TableRef,
  cutoff: number | undefined,
): Promise<PartitionPlan[]> {
  const stats = await ch.rows(selectViewQueryPartitions(vq, cutoff));
  const live = new Map(
    (await ch.rows(selectPartitionRowsBetween(target, stats[0]?.id ?? '0', stats.at(-1)?.id ?? '0'))).map((p) => [
      p.id,
      Number(p.live_rows),
    ]),
  );
  return stats.map((s) => ({
    ...(vq.partitionBy === 'none' ? { id: s.id, start: '', end: '' } : partitionFromId(s.id, vq.partitionBy)),
    sourceRows: Number(s.rows),
    targetRows: live.get(s.id) ?? 0,
    maxRowsPerKey: 0,
    salt: 1,
  }));
}

/** What `plan` says validation compares per partition, for the job's target and form. */
export function viewValidationText(job: ViewJob): { validation: string } {
  const vq = viewQuery(job);
  if (vq) return { validation: comparisonText(vq.engine) };
  const shape = viewShape(job);
  const counts = rowCountColumns(shape);
  if (counts.length === 0) return { validation: comparisonText(shape.engine) };
  const exact = `${counts.join(', ')} equal to the source rows`;
  return {
    validation:
      job.validation.mode === 'fast'
        ? `${comparisonText(shape.engine, { keys: false })}; ${exact} (validation.mode fast: instead of the distinct keys)`
        : `${comparisonText(shape.engine)}; ${exact}`,
  };
}
