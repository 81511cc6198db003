import type { ClickHouse } from '../../clickhouse/clickhouse';
import type { ShardHosts } from '../../shared/server-profile';

export interface Logger {
  info(message: string, meta?: Record<string, unknown>): void;
  warn(message: string, meta?: Record<string, unknown>): void;
}

/**
 * A named point inside a step, for observers (metrics, fault-injection tests): `insert:started`,
 * `insert:finished`, `backup:kept`, `swap:replaced`, `move:done` (a view partition appended; an import batch's
 * tables all moved), `move:table` (one table of an import batch moved; partition `<id>/<live table>`),
 * `cleanup:dropped`; for a snapshot job `snapshot:attached` (one source partition attached to the snapshot) and
 * `view:created`.
 */
export type StepPoint =
  | 'insert:started'
  | 'insert:finished'
  | 'backup:kept'
  | 'swap:replaced'
  | 'move:done'
  | 'move:table'
  | 'cleanup:dropped'
  | 'snapshot:attached'
  | 'view:created';

export interface ActivityDeps {
  clickhouse: ClickHouse;
  log: Logger;
  onStep?: (point: StepPoint, partition: string) => void | Promise<void>;
  /**
   * On a sharded cluster: the client to one shard (a replica host of it, see src/clickhouse/shard-clients.ts), which
   * a shard's partition task runs its fill, syncs and swap through (src/activities/engine/shard-client.ts).
   */
  shardClient?: (shard: ShardHosts) => ClickHouse;
}
