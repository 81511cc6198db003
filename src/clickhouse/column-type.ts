/**
 * What a column's ClickHouse type says about how validation may total it. Types are read as `system.columns` and
 * `DESCRIBE` print them.
 */

const NUMERIC =
  /^(Nullable\(|LowCardinality\()*(U?Int(8|16|32|64|128|256)|Float(32|64)|BFloat16|Decimal(32|64|128|256)?\(.*\))\)*$/;

/** A number type, Nullable or LowCardinality wrapped too: its `sum` is a total. */
export function isNumericType(type: string): boolean {
  return NUMERIC.test(type);
}

/** `SimpleAggregateFunction(sum, …)`: stored as a number, merged by adding, so its `sum` is exact whatever merged. */
export function isSimpleSumType(type: string): boolean {
  return /^SimpleAggregateFunction\(sum\s*,/.test(type);
}
