/**
 * Table engines by family. ClickHouse Cloud reports MergeTree-family tables as `Shared…MergeTree`
 * (`SharedSummingMergeTree`), replicated clusters as `Replicated…MergeTree`: each behaves, for what this tool
 * checks, like the plain engine of its family. Every engine comparison goes through here, never by exact name.
 */

const PREFIX = /^(Replicated|Shared)(\w*MergeTree)$/;

/** The plain engine of `engine`'s family: `SharedSummingMergeTree` and `ReplicatedSummingMergeTree` → `SummingMergeTree`. */
export function engineFamily(engine: string): string {
  return PREFIX.exec(engine)?.[2] ?? engine;
}

/** Whether `engine` is of the MergeTree family (plain, Replicated or Shared): the tables with partitions. */
export function isMergeTreeFamily(engine: string): boolean {
  return engineFamily(engine).endsWith('MergeTree');
}

/** `ReplicatedMergeTree`, `ReplicatedSummingMergeTree`, …: replicas through Keeper, one per server. */
export function isReplicatedEngine(engine: string): boolean {
  return PREFIX.exec(engine)?.[1] === 'Replicated';
}

/** `SharedMergeTree`, `SharedSummingMergeTree`, …: ClickHouse Cloud's shared storage. */
export function isSharedEngine(engine: string): boolean {
  return PREFIX.exec(engine)?.[1] === 'Shared';
}

/** Splits `a, (b, c), 'd,e'` at its top-level commas. */
function splitArguments(text: string): string[] {
  const args: string[] = [];
  let depth = 0;
  let quote: string | undefined;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quote) {
      if (c === '\\') i++;
      else if (c === quote) quote = undefined;
    } else if (c === "'" || c === '"' || c === '`') quote = c;
    else if (c === '(' || c === '[') depth++;
    else if (c === ')' || c === ']') depth--;
    else if (c === ',' && depth === 0) {
      args.push(text.slice(start, i).trim());
      start = i + 1;
    }
  }
  const last = text.slice(start).trim();
  if (last !== '' || args.length > 0) args.push(last);
  return args;
}

/** A MergeTree-family engine kept on one server's disks: neither `Replicated…` nor `Shared…`. */
export function isLocalMergeTree(engine: string): boolean {
  return isMergeTreeFamily(engine) && !isReplicatedEngine(engine) && !isSharedEngine(engine);
}

/**
 * The arguments of the engine in `engineFull` (`system.tables.engine_full`) that belong to its family, without a
 * Replicated or Shared engine's Keeper path and replica name (its leading string literals):
 * `ReplicatedSummingMergeTree('/t/{uuid}', '{replica}', (a, b)) ORDER BY k` → `['(a, b)']`.
 */
export function engineFamilyArguments(engineFull: string): string[] {
  const m = /^(\w+)\s*\(/.exec(engineFull);
  if (!m) return [];
  let depth = 0;
  let quote: string | undefined;
  let end = m[0].length;
  for (; end < engineFull.length; end++) {
    const c = engineFull[end];
    if (quote) {
      if (c === '\\') end++;
      else if (c === quote) quote = undefined;
    } else if (c === "'" || c === '"' || c === '`') quote = c;
    else if (c === '(') depth++;
    else if (c === ')') {
      if (depth === 0) break;
      depth--;
    }
  }
  const args = splitArguments(engineFull.slice(m[0].length, end));
  if (!PREFIX.test(m[1])) return args;
  let replication = 0;
  while (replication < 2 && replication < args.length && /^'.*'$/s.test(args[replication])) replication++;
  return args.slice(replication);
}

/**
 * The columns a `SummingMergeTree` (plain, Replicated or Shared) sums when its engine names them
 * (`SummingMergeTree((a, b))`), or undefined when it sums every numeric column outside the key.
 */
export function summedColumns(engineFull: string): string[] | undefined {
  const [listed] = engineFamilyArguments(engineFull);
  if (listed === undefined) return undefined;
  return splitArguments(listed.replace(/^\((.*)\)$/s, '$1')).map((c) => c.replace(/^`(.*)`$/, '$1'));
}
