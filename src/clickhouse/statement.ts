/**
 * A SQL statement whose values (and names, as `Identifier`) travel only as query parameters. `Row` is the shape
 * of the rows it returns, declared next to the SQL that aliases them, so `ch.rows(statement)` is typed where the
 * query is written rather than where it is read.
 */
export interface Statement<Row = unknown> {
  query: string;
  params: Record<string, unknown>;
  /** Never set: carries `Row` in the type only (a method, so statements of any row type stay assignable). */
  rowType?(row: Row): void;
}
