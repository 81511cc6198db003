import { parseExpression, type Expr } from '../../shared/expression-syntax';
import type { ServerProfile, ShardHosts } from '../../shared/server-profile';
import { qualifiedName, type TableRef } from '../../shared/table-ref';
import { renderExpression } from './expression';

/**
 * Functions whose value differs between two evaluations of the same row: a sharding key calling one routes a row to
 * a shard no later evaluation can name, so the rows a shard owns cannot be selected again.
 */
const NONDETERMINISTIC = new Set([
  'rand',
  'rand32',
  'rand64',
  'randConstant',
  'randCanonical',
  'generateUUIDv4',
  'generateUUIDv7',
  'generateSnowflakeID',
  'now',
  'now64',
  'today',
  'yesterday',
  'nowInBlock',
  'rowNumberInBlock',
  'rowNumberInAllBlocks',
  'blockNumber',
]);

/** The first function of `key` whose value is not a function of the row (`rand()`, `now()`, …), if any. */
export function nondeterministicCall(key: Expr): string | undefined {
  switch (key.kind) {
    case 'call':
      if (NONDETERMINISTIC.has(key.name) || /^rand/i.test(key.name)) return key.name;
      return [...(key.params ?? []), ...key.args].map(nondeterministicCall).find((f) => f !== undefined);
    case 'unary':
      return nondeterministicCall(key.operand);
    case 'binary':
      return nondeterministicCall(key.left) ?? nondeterministicCall(key.right);
    default:
      return undefined;
  }
}

/** A shard's weight as `system.clusters.shard_weight` gave it; a profile recorded before weights: 1. */
export const weightOf = (shard: Pick<ShardHosts, 'weight'>): number => shard.weight ?? 1;

/**
 * The remainders of `sharding_key % sum(weights)` each shard owns, as ClickHouse routes an insert into a
 * `Distributed` table: the shards in `shard_num` order (the cluster's configuration order), each owning the next
 * `weight` remainders, half-open `[from, to)` (weights 1 and 2: shard 1 owns 0, shard 2 owns 1 and 2; a shard of
 * weight 0 owns none).
 */
export function shardSlots(shards: ShardHosts[]): { num: number; from: number; to: number; total: number }[] {
  const ordered = [...shards].sort((a, b) => a.num - b.num);
  const total = ordered.reduce((n, s) => n + weightOf(s), 0);
  let from = 0;
  return ordered.map((s) => {
    const slot = { num: s.num, from, to: from + weightOf(s), total };
    from = slot.to;
    return slot;
  });
}

/**
 * The `WHERE` condition selecting the rows shard `num` owns under `key` (the `Distributed` table's sharding
 * expression, parsed), with its parameters: `reinterpretAsUInt64(<key>) % total` within the shard's remainders.
 * ClickHouse takes the remainder of a signed key as of the unsigned type of the same width (a negative `Int32`
 * counts as its `UInt32` bits); `reinterpretAsUInt64` of any integer up to 64 bits gives exactly that value (its
 * bytes zero-extended), and of an unsigned one the value itself. The key is rendered from its parsed form (never
 * the server's text as is).
 *
 * @throws Error when the cluster has no shard `num` or its shards weigh nothing in total.
 */
export function shardOwnsRows(
  key: Expr,
  shards: ShardHosts[],
  num: number,
): { where: string; params: Record<string, number> } {
  const slot = shardSlots(shards).find((s) => s.num === num);
  if (!slot) throw new Error(`the cluster has no shard ${num}`);
  if (slot.total === 0) throw new Error('the shards of the cluster weigh 0 in total: no shard owns a row');
  const remainder = `(reinterpretAsUInt64(${renderExpression(key)}) % {shard_weights:UInt64})`;
  return {
    where: `${remainder} >= {shard_slot_from:UInt64} AND ${remainder} < {shard_slot_to:UInt64}`,
    params: { shard_weights: slot.total, shard_slot_from: slot.from, shard_slot_to: slot.to },
  };
}

/**
 * On one shard's task (`server.shard`): the condition selecting the rows that shard owns, by the sharding key of the
 * `Distributed` table whose local table is `local` (what an insert through it would have routed there). Undefined
 * off a shard's task.
 *
 * @throws Error when no `Distributed` table of the job writes `local`, or its key is missing, outside the grammar
 *   or not deterministic (the plan refuses those before any task).
 */
export function shardRowsOf(
  server: ServerProfile | undefined,
  local: TableRef,
): { where: string; params: Record<string, number> } | undefined {
  const shard = server?.shard;
  const sharding = server?.sharding;
  if (!shard || !sharding) return undefined;
  const distributed = Object.entries(sharding.distributed).find(
    ([, d]) => d.local.database === local.database && d.local.name === local.name,
  );
  const key = distributed?.[1].shardingKey;
  if (!distributed || key === undefined)
    throw new Error(`shard ${shard.num}: no Distributed table with a sharding key writes ${qualifiedName(local)}`);
  const parsed = parseExpression(key);
  const call = nondeterministicCall(parsed);
  if (call) throw new Error(`${distributed[0]} is sharded by ${key}, which calls ${call}(): not deterministic`);
  return shardOwnsRows(parsed, sharding.shards, shard.num);
}
