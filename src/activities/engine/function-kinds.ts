import type { ClickHouse } from '../../clickhouse/clickhouse';
import { selectAggregateCombinators, selectFunctionKinds } from '../../sql/engine/introspection';

/** What the server says of a job's function names: which exist, which are aggregates (combinators included). */
export interface FunctionKinds {
  /** Whether `fn` is a function the server knows (a plain function or aggregate, as `system.functions` lists it). */
  known(fn: string): boolean;
  /** Whether `fn` is an aggregate: one `system.functions` lists, or one with combinators (`sumIf`, `uniqStateIf`). */
  isAggregate(fn: string): boolean;
}

/** Every way of reading `fn` as a name followed by combinator suffixes: `sumIf` → `sumIf`, `sum`. */
function basesOf(fn: string, combinators: string[]): string[] {
  const bases = [fn];
  for (const c of combinators) {
    if (fn.length > c.length && fn.endsWith(c)) bases.push(...basesOf(fn.slice(0, -c.length), combinators));
  }
  return bases;
}

/**
 * Reads the kinds of `names` from `system.functions`, with the base of each name read as an aggregate with
 * combinators (`system.functions` lists `sum` and the combinator `If`, not `sumIf`).
 */
export async function functionKinds(ch: ClickHouse, names: string[]): Promise<FunctionKinds> {
  const combinators = (await ch.rows(selectAggregateCombinators())).map((r) => r.name);
  const candidates = [...new Set(names.flatMap((n) => basesOf(n, combinators)))];
  const kind = new Map(
    (await ch.rows(selectFunctionKinds(candidates))).map((r) => [r.name, Number(r.is_aggregate) === 1]),
  );
  return {
    known: (fn) => kind.has(fn),
    // A name the server lists is what it says; another one is an aggregate when a base of it is.
    isAggregate: (fn) => kind.get(fn) ?? basesOf(fn, combinators).some((base) => kind.get(base) === true),
  };
}
