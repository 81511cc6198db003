import type { ClickHouse } from '../../clickhouse/clickhouse';
import type { Statement } from '../../clickhouse/statement';
import type { ValidationCheck } from '../../shared/backfill-results';
import type { TableRef } from '../../shared/table-ref';
import { selectTableColumns } from '../../sql/engine/introspection';
import { comparisonFor, viewQuerySumAlias, type ViewQuery } from '../../sql/view/view-sql';
import { validationCheck } from '../engine/validation-check';

/** A numeric column (Nullable or LowCardinality wrapped too): validation compares its total. */
const NUMERIC = /^(Nullable\(|LowCardinality\()*(U?Int\d+|Float\d+|Decimal)/;

/** The totals one check reads: the view's query over the partition, and the shadow's partition. */
export interface ViewQueryTotals {
  source: Statement<Record<string, string>>;
  shadow: Statement<Record<string, string>>;
}

/**
 * The checks of a shadow filled by a view's SQL (a view job given as SQL, a restate of a view): what stays exact in
 * the target's engine whatever it merges ({@link comparisonFor}: rows and sums, keys and sums, keys, rows after
 * FINAL, or sums weighed by a collapsing target's sign), the shadow's partition against the view query's output
 * over the partition. `totals` renders both reads for the numeric columns compared (the shadow's read as of every
 * committed part where the server needs it).
 */
export async function viewQueryChecks(
  ch: ClickHouse,
  target: {
    engine: ViewQuery['engine'];
    orderBy: string[];
    sign?: string;
    shadow: TableRef;
    relativeTolerance: number;
  },
  totals: (sums: string[]) => ViewQueryTotals,
): Promise<{ rows: string; checks: ValidationCheck[] }> {
  const comparison = comparisonFor(target.engine);
  const keys = new Set(target.orderBy);
  const sums =
    comparison === 'rows and sums' || comparison === 'keys and sums' || comparison === 'signed sums'
      ? (await ch.rows(selectTableColumns(target.shadow)))
          .filter((c) => NUMERIC.test(c.type) && (comparison === 'rows and sums' || !keys.has(c.name)))
          .filter((c) => c.name !== target.sign)
          .map((c) => c.name)
      : [];
  const reads = totals(sums);
  const [source] = await ch.rows(reads.source);
  const [shadow] = await ch.rows(reads.shadow);
  const checks: ValidationCheck[] = [];
  if (comparison === 'rows and sums') {
    checks.push(validationCheck('rows = view query rows', source.rows, shadow.rows, 0));
  } else if (comparison === 'final rows') {
    checks.push(validationCheck('rows after FINAL = distinct keys of the view query', source.keys, shadow.rows, 0));
  } else if (comparison === 'signed sums') {
    checks.push(validationCheck(`sum(${target.sign}) = the view query's`, source.rows, shadow.rows, 0));
  } else checks.push(validationCheck('keys = distinct keys of the view query', source.keys, shadow.keys, 0));
  sums.forEach((c, i) => {
    const alias = viewQuerySumAlias(i);
    const name = comparison === 'signed sums' ? `total ${c} × ${target.sign}` : `total ${c}`;
    checks.push(validationCheck(name, source[alias], shadow[alias], target.relativeTolerance));
  });
  return { rows: source.rows, checks };
}
