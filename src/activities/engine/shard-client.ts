import type { PartitionTask } from '../../shared/partition-task';
import type { ActivityDeps } from './deps';

/**
 * The dependencies one partition task's statements run with: on a sharded cluster's task (`task.server.shard`)
 * the worker's client to that shard (`deps.shardClient`), so the fill, the syncs, the swap and its checks reach
 * that shard alone; the worker's own client for every other task.
 *
 * @throws Error when the task names a shard and the worker has no client per shard (no `CLICKHOUSE_URL`).
 */
export function onShard(deps: ActivityDeps, task: Pick<PartitionTask, 'server'>): ActivityDeps {
  const shard = task.server?.shard;
  if (!shard) return deps;
  if (!deps.shardClient) {
    throw new Error(
      `shard ${shard.num}: this worker has no client per shard (it needs CLICKHOUSE_URL, see docs/clusters.md)`,
    );
  }
  return { ...deps, clickhouse: deps.shardClient(shard) };
}
