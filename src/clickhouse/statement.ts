/** A SQL statement whose values (and names, as `Identifier`) travel only as query parameters. */
export interface Statement {
  query: string;
  params: Record<string, unknown>;
}
