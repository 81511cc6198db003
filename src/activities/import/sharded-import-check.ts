import { isReplicatedEngine } from '../../clickhouse/engine-family';
import { ExpressionSyntaxError, parseExpression } from '../../shared/expression-syntax';
import type { ServerProfile } from '../../shared/server-profile';
import { qualifiedName, type TableRef } from '../../shared/table-ref';
import { nondeterministicCall, shardSlots } from '../../sql/engine/shard-rows';
import { JobSpecError } from '../engine/errors';

/**
 * Checks, before any DDL, that an import from a table can run per shard on a sharded cluster: the target is a
 * `Distributed` table whose sharding key the tool can evaluate on a history row (in the expression grammar, and
 * deterministic: `rand()` routes a row nowhere a later evaluation can find), over shards that own some remainder;
 * the local target and every view target behind it are `Replicated…MergeTree` tables (each shard's moves must reach
 * every replica of that shard). Each shard's duplicates are then filled with exactly the history rows an insert
 * through the `Distributed` table would have routed to that shard (src/sql/engine/shard-rows.ts).
 *
 * @throws JobSpecError naming the field and echoing the value.
 */
export function checkShardedImport(server: ServerProfile, target: TableRef, viewTargets: TableRef[]): void {
  const sharding = server.sharding;
  const name = qualifiedName(target);
  const distributed = sharding?.distributed[name];
  if (!sharding || !distributed) {
    throw new JobSpecError(
      'target.table',
      `the server is a sharded cluster and ${name} is not a Distributed table (engine ` +
        `${server.tableEngines[name] ?? 'unknown'}): an import there names the Distributed table, each shard ` +
        'filling its local one, see docs/clusters.md',
    );
  }
  const key = distributed.shardingKey;
  if (key === undefined) {
    throw new JobSpecError(
      'target.table',
      `${name} has no sharding key: no shard's rows can be told apart from another's, see docs/clusters.md`,
    );
  }
  let call: string | undefined;
  try {
    call = nondeterministicCall(parseExpression(key));
  } catch (err) {
    if (!(err instanceof ExpressionSyntaxError)) throw err;
    throw new JobSpecError(
      'target.table',
      `${name} is sharded by ${key}, outside the expression grammar: the rows each shard owns cannot be selected, ` +
        `see docs/clusters.md: ${err.message}`,
      { cause: err },
    );
  }
  if (call) {
    throw new JobSpecError(
      'target.table',
      `${name} is sharded by ${key}, which calls ${call}(): not deterministic, so the shard a history row belongs ` +
        'to cannot be computed again; an import needs a sharding key that is a function of the row (e.g. ' +
        'cityHash64(user_id)), see docs/clusters.md',
    );
  }
  if (shardSlots(sharding.shards).every((s) => s.to === s.from)) {
    throw new JobSpecError('target.table', `every shard of cluster ${sharding.name} has weight 0: no shard owns a row`);
  }
  for (const table of [distributed.local, ...viewTargets]) {
    const engine = sharding.engines[qualifiedName(table)] ?? server.tableEngines[qualifiedName(table)] ?? 'missing';
    if (!isReplicatedEngine(/^\w+/.exec(engine)?.[0] ?? '')) {
      throw new JobSpecError(
        'target.table',
        `${qualifiedName(table)}, behind ${name}, is ${engine}: every table an import moves rows into on a sharded ` +
          'cluster must exist on every shard as a Replicated…MergeTree table, see docs/clusters.md',
      );
    }
  }
}
