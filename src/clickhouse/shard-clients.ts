import type { ShardHosts } from '../shared/server-profile';
import type { ClickHouse } from './clickhouse';
import type { LineLogger } from './client-logger';
import { connectClickHouse } from './connect';

/**
 * The URL of one shard: its entry in `CLICKHOUSE_SHARD_URLS` (`<shard_num>=<url>` separated by commas, e.g.
 * `1=https://ch-s1.internal:8443,2=https://ch-s2.internal:8443`: a load balancer over the shard's replicas, or one of
 * them), else `CLICKHOUSE_URL` with its host replaced by the shard's first replica as `system.clusters` names it
 * (same scheme, port, path and credentials).
 *
 * @throws Error when `CLICKHOUSE_SHARD_URLS` does not parse.
 */
export function shardUrl(env: NodeJS.ProcessEnv, shard: ShardHosts): string {
  const listed = env.CLICKHOUSE_SHARD_URLS?.trim();
  if (listed) {
    for (const entry of listed.split(',')) {
      const m = /^\s*(\d+)\s*=\s*(\S+)\s*$/.exec(entry);
      if (!m) throw new Error(`CLICKHOUSE_SHARD_URLS: expected <shard_num>=<url>, not ${JSON.stringify(entry)}`);
      if (Number(m[1]) === shard.num) return m[2];
    }
    throw new Error(`CLICKHOUSE_SHARD_URLS names no URL for shard ${shard.num}`);
  }
  const url = new URL(env.CLICKHOUSE_URL ?? '');
  url.hostname = shard.hosts[0];
  return url.toString();
}

/**
 * A client per shard, opened on first use with the worker's settings (pools, credentials, CA) and `shardUrl`'s URL,
 * kept for the worker's life; `close` closes them all. Only over HTTP (a sharded cluster has no embedded form).
 */
export function shardClients(env: NodeJS.ProcessEnv, log?: LineLogger) {
  const open = new Map<number, ClickHouse>();
  return {
    clientFor(shard: ShardHosts): ClickHouse {
      let client = open.get(shard.num);
      if (!client) {
        client = connectClickHouse({ ...env, CLICKHOUSE_URL: shardUrl(env, shard) }, log);
        open.set(shard.num, client);
      }
      return client;
    },
    async close(): Promise<void> {
      await Promise.all([...open.values()].map((c) => c.close()));
    },
  };
}
