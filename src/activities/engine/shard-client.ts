import type { PartitionTask } from '../../shared/partition-task';
import type { ActivityDeps } from './deps';
import type { KindSteps } from './kind-steps';

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

/**
 * A kind's steps that send every statement of a sharded cluster's task through the client to the task's shard
 * ({@link onShard}; DDL still reaches every host `ON CLUSTER`), and every other task's through the worker's own
 * client. `stepsOf` builds the kind's steps for one client.
 */
export function stepsOnTaskShard<T extends PartitionTask>(
  deps: ActivityDeps,
  stepsOf: (deps: ActivityDeps) => KindSteps<T>,
): KindSteps<T> {
  const own = stepsOf(deps);
  const on = (task: T) => (task.server?.shard ? stepsOf(onShard(deps, task)) : own);
  return {
    prepare: (task) => on(task).prepare(task),
    build: (task, options) => on(task).build(task, options),
    validate: (task) => on(task).validate(task),
    swap: (task, context) => on(task).swap(task, context),
    drop: (task) => on(task).drop(task),
  };
}
