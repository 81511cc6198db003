import type { ClickHouse } from '../../clickhouse/clickhouse';
import type { Statement } from '../../clickhouse/statement';
import type { ValidationCheck } from '../../shared/backfill-results';
import type { TableRef } from '../../shared/table-ref';
import { selectTableColumns, selectTableInfo } from '../../sql/engine/introspection';
import { summedColumns } from '../../clickhouse/engine-family';
import { isNumericType, isSimpleSumType } from '../../clickhouse/column-type';
import {
  comparisonFor,
  mergedAggregateOf,
  viewQueryMergedAlias,
  viewQuerySumAlias,
  type ViewQuery,
  type ViewQueryTotalsReads,
} from '../../sql/view/view-sql';
import { validationCheck } from '../engine/validation-check';

/** The totals one check reads: the view query's output over the partition, and the shadow's partition. */
export interface ViewQueryTotals {
  source: Statement<Record<string, string>>;
  shadow: Statement<Record<string, string>>;
}

/** What the checks of one shadow compare it as (see {@link viewQueryChecks}). */
export interface ViewQueryCheckTarget {
  engine: ViewQuery['engine'];
  orderBy: string[];
  sign?: string;
  /** Output columns counting source rows ({@link ViewQuery.rowCounts}): compared exactly, named so. */
  rowCounts?: string[];
  /** `validation.mode`: `fast` skips the distinct keys where a row-count column already shows a lost or doubled row. */
  mode?: 'full' | 'fast';
  /**
   * The live target: the shadow is created like it, so its columns are the shadow's, and every replica of a
   * load-balanced service has long known them (a shadow just created may not be on the replica that answers yet).
   */
  target: TableRef;
  shadow: TableRef;
  relativeTolerance: number;
}

/**
 * What the shadow's columns let validation read, for a target compared as {@link comparisonFor} says: the sums of
 * numeric columns (non-key ones where the engine sums by key, only those it names where it names them; none after
 * FINAL), the `-Merge` totals of exact aggregate states and the sums of `SimpleAggregateFunction(sum, …)` columns
 * (not where rows are weighed by a sign or replaced), and the distinct keys unless fast mode may skip them.
 */
async function totalsReads(ch: ClickHouse, target: ViewQueryCheckTarget): Promise<ViewQueryTotalsReads> {
  const comparison = comparisonFor(target.engine);
  const keys = new Set(target.orderBy);
  const columns = (await ch.rows(selectTableColumns(target.target))).filter(
    (c) => c.name !== target.sign && (comparison === 'rows and sums' || !keys.has(c.name)),
  );
  // A SummingMergeTree naming the columns it sums keeps any value of one of its rows in the others.
  const [info] = comparison === 'keys and sums' ? await ch.rows(selectTableInfo(target.target)) : [];
  const listed = info === undefined ? undefined : summedColumns(info.engine_full);
  const summed = comparison === 'rows and sums' || comparison === 'keys and sums' || comparison === 'signed sums';
  const merges = comparison !== 'signed sums' && comparison !== 'final rows';
  const keysCompared = comparison === 'final rows' || comparison === 'keys' || comparison === 'keys and sums';
  const sums = columns
    .filter((c) => (summed && isNumericType(c.type)) || (merges && isSimpleSumType(c.type)))
    .filter((c) => listed === undefined || listed.includes(c.name))
    .map((c) => c.name);
  const merged = merges
    ? columns.flatMap((c) => {
        const fn = mergedAggregateOf(c.type);
        return fn === undefined ? [] : [{ column: c.name, fn }];
      })
    : [];
  // A row-count column compared shows a lost or doubled row: fast mode may skip the distinct keys then.
  const counted = (target.rowCounts ?? []).some((c) => sums.includes(c) || merged.some((m) => m.column === c));
  return { keys: keysCompared && !(target.mode === 'fast' && counted && comparison !== 'final rows'), sums, merged };
}

/**
 * The checks of a shadow filled by a view's SQL (every view job, the structured form rendered to it; a restate of a
 * view): what stays exact in the target's engine whatever it merges ({@link comparisonFor}: rows and sums, keys and
 * sums, keys, rows after FINAL, or sums weighed by a collapsing target's sign), plus the `-Merge` total of each exact
 * aggregate state column, the shadow's partition against the view query's output over the partition. A row-count
 * column's total must equal the source's rows exactly, and is the rows read; without one, the rows read are the view
 * query's output rows. `totals` renders both reads (the shadow's as of every committed part where the server needs
 * it). `shadowRows` is the shadow's part rows where the read gave them.
 */
export async function viewQueryChecks(
  ch: ClickHouse,
  target: ViewQueryCheckTarget,
  totals: (reads: ViewQueryTotalsReads) => ViewQueryTotals,
): Promise<{ rowsRead: string; checks: ValidationCheck[]; shadowRows?: number }> {
  const comparison = comparisonFor(target.engine);
  const reads = await totalsReads(ch, target);
  const statements = totals(reads);
  const [source] = await ch.rows(statements.source);
  const [shadow] = await ch.rows(statements.shadow);
  const checks: ValidationCheck[] = [];
  if (comparison === 'rows and sums') {
    checks.push(validationCheck('rows = view query rows', source.rows, shadow.rows, 0));
  } else if (comparison === 'final rows') {
    checks.push(validationCheck('rows after FINAL = distinct keys of the view query', source.keys, shadow.rows, 0));
  } else if (comparison === 'signed sums') {
    checks.push(validationCheck(`sum(${target.sign}) = the view query's`, source.rows, shadow.rows, 0));
  } else if (reads.keys) {
    checks.push(validationCheck('keys = distinct keys of the view query', source.keys, shadow.keys, 0));
  }
  const counts = new Set(target.rowCounts);
  let sourceRows: string | undefined;
  const total = (column: string, name: string, alias: string) => {
    if (!counts.has(column)) return validationCheck(name, source[alias], shadow[alias], target.relativeTolerance);
    sourceRows = source[alias];
    return validationCheck(`${column} = source rows`, source[alias], shadow[alias], 0);
  };
  reads.sums.forEach((c, i) => {
    const name = comparison === 'signed sums' ? `total ${c} × ${target.sign}` : `total ${c}`;
    checks.push(total(c, name, viewQuerySumAlias(i)));
  });
  reads.merged.forEach(({ column, fn }, i) => {
    checks.push(total(column, `${fn}Merge(${column})`, viewQueryMergedAlias(i)));
  });
  // `rows` is the shadow's count() without FINAL or sign: the rows its parts hold.
  const partRows = comparison !== 'final rows' && comparison !== 'signed sums';
  return { rowsRead: sourceRows ?? source.rows, checks, ...(partRows ? { shadowRows: Number(shadow.rows) } : {}) };
}
