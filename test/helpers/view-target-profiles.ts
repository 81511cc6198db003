import type { ServerProfile } from '../../src/shared/server-profile';

/**
 * A recorded cluster profile with the view jobs' targets of test/helpers/topology-jobs.ts added (`events_hourly`,
 * `events_by_host`, `daily`): they exist as replicated tables, as a cluster requires (the tool creates no target
 * there), with their own Keeper paths in an `Atomic` database and `{uuid}` paths in a `Replicated` one.
 */
export function withViewTargets(server: ServerProfile): ServerProfile {
  const cluster = server.cluster!;
  const engineOf = (table: string, order: string) =>
    cluster.databaseEngine === 'Atomic'
      ? `ReplicatedSummingMergeTree('/clickhouse/tables/{shard}/default/${table}', '{replica}') ` +
        `PARTITION BY toYYYYMM(${order}) ORDER BY ${order} SETTINGS index_granularity = 8192`
      : `ReplicatedSummingMergeTree('/clickhouse/tables/{uuid}/{shard}', '{replica}') ` +
        `PARTITION BY toYYYYMM(${order}) ORDER BY ${order} SETTINGS index_granularity = 8192`;
  const extra = {
    'default.events_hourly': engineOf('events_hourly', 'hour'),
    'default.events_by_host': engineOf('events_by_host', 'host'),
    'default.daily': engineOf('daily', 'day'),
  };
  return {
    ...server,
    tableEngines: {
      ...server.tableEngines,
      ...Object.fromEntries(Object.keys(extra).map((t) => [t, 'ReplicatedSummingMergeTree'])),
    },
    cluster: { ...cluster, engines: { ...cluster.engines, ...extra } },
  };
}
