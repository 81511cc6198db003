import type { DistributedTable } from '../../shared/server-profile';

/** The top-level arguments of the call that opens `text` at `open` (`(`), split on commas outside parentheses and quotes. */
function topLevelArguments(text: string, open: number): string[] | undefined {
  const args: string[] = [];
  let depth = 0;
  let start = open + 1;
  for (let i = open; i < text.length; i++) {
    const c = text[i];
    if (c === "'" || c === '`' || c === '"') {
      for (i++; i < text.length && text[i] !== c; i++) if (text[i] === '\\') i++;
    } else if (c === '(') depth++;
    else if (c === ',' && depth === 1) {
      args.push(text.slice(start, i).trim());
      start = i + 1;
    } else if (c === ')' && --depth === 0) {
      args.push(text.slice(start, i).trim());
      return args;
    }
  }
  return undefined;
}

/** A name argument as written: `'x'`, `` `x` `` or `x` → `x`. */
const unquoted = (arg: string): string => arg.replace(/^(['`"])(.*)\1$/, '$2');

/**
 * A `Distributed` table's storage from `system.tables.engine_full`
 * (`Distributed('main', 'default', 'events_local', cityHash64(user_id))`): its cluster, local table and sharding
 * key (absent when none is given). Undefined for any other engine or an unreadable one.
 */
export function distributedTableOf(engineFull: string): DistributedTable | undefined {
  const m = /^Distributed\s*\(/.exec(engineFull);
  if (!m) return undefined;
  const args = topLevelArguments(engineFull, m[0].length - 1);
  if (!args || args.length < 3) return undefined;
  const [cluster, database, name, shardingKey] = args;
  return {
    cluster: unquoted(cluster),
    local: { database: unquoted(database), name: unquoted(name) },
    ...(shardingKey ? { shardingKey } : {}),
  };
}
