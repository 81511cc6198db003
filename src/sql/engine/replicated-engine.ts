import { qualifiedName, type TableRef } from '../../shared/table-ref';
import { quoteAllowListedIdentifier } from './quote-identifier';

/** Where a table the tool creates on a replicated cluster keeps its Keeper state: derived from its own name. */
export function ownKeeperPath(table: TableRef): string {
  // Both names pass the allow-list (letters, digits, underscores): nothing in them can leave the literal.
  quoteAllowListedIdentifier(table.database);
  quoteAllowListedIdentifier(table.name);
  return `/clickhouse/tables/{shard}/${table.database}/${table.name}`;
}

/**
 * The Keeper path and replica name of a bookkeeping table that is ONE replica group across every node of every
 * shard of `cluster` (the ledger on a sharded cluster): the path carries no `{shard}` (one path for the whole
 * cluster, named after it), and the replica name is `{shard}-{replica}`, since ClickHouse requires replica names to
 * be unique only within a shard (the `{replica}` macro of two shards may be equal).
 */
export function clusterWideReplication(table: TableRef, cluster: string): string {
  quoteAllowListedIdentifier(cluster);
  quoteAllowListedIdentifier(table.database);
  quoteAllowListedIdentifier(table.name);
  return `'/clickhouse/tables/all_shards/${cluster}/${table.database}/${table.name}', '{shard}-{replica}'`;
}

/** The end of the engine call that opens `text` (`Name(…)`), past nested parentheses and quoted strings. */
function callEnd(text: string, open: number): number {
  let depth = 0;
  for (let i = open; i < text.length; i++) {
    const c = text[i];
    if (c === "'") {
      for (i++; i < text.length && text[i] !== "'"; i++) if (text[i] === '\\') i++;
    } else if (c === '(') depth++;
    else if (c === ')' && --depth === 0) return i;
  }
  return -1;
}

/** The leading string-literal argument of `args` and what follows it, or undefined when it starts otherwise. */
function leadingString(args: string): string | undefined {
  const m = /^\s*'(?:[^'\\]|\\.)*'\s*(?:,\s*)?/.exec(args);
  return m ? args.slice(m[0].length) : undefined;
}

/**
 * The storage of a `Replicated…MergeTree` table as `system.tables.engine_full` shows it (e.g.
 * `ReplicatedSummingMergeTree('/clickhouse/tables/{uuid}/{shard}', '{replica}', (a, b)) PARTITION BY … ORDER BY …`),
 * rewritten for `table`: the Keeper path and replica name replaced by `table`'s own path ({@link ownKeeperPath})
 * and `{replica}`, every other engine argument and clause kept. So a shadow or backup created `AS` the live table
 * is never a second replica of the live table's path. Throws on anything but a `Replicated…MergeTree` storage.
 */
export function replicatedEngineWithOwnPath(engineFull: string, table: TableRef): string {
  const name = /^Replicated\w*MergeTree/.exec(engineFull);
  if (!name) throw new Error(`${qualifiedName(table)}: cannot derive a replicated engine from ${engineFull}`);
  const afterName = engineFull.slice(name[0].length);
  let extra = '';
  let rest = afterName;
  if (afterName.startsWith('(')) {
    const end = callEnd(engineFull, name[0].length);
    if (end < 0) throw new Error(`${qualifiedName(table)}: unbalanced engine arguments in ${engineFull}`);
    const args = engineFull.slice(name[0].length + 1, end);
    rest = engineFull.slice(end + 1);
    const afterPath = leadingString(args);
    const afterReplica = afterPath === undefined ? undefined : leadingString(afterPath);
    extra = (afterReplica ?? (afterPath === undefined ? args : afterPath)).trim();
  }
  const path = `'${ownKeeperPath(table)}', '{replica}'`;
  return `${name[0]}(${extra ? `${path}, ${extra}` : path})${rest}`;
}
