import { createClient, type ClickHouseClientConfigOptions } from '@clickhouse/client';
import { createChdbConnection } from 'chdb/connection';
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { wrapClient, type ClickHouse } from './clickhouse';

/** HTTP port of a ClickHouse server started from temporal-dev.yml. */
export const DEFAULT_CLICKHOUSE_HTTP_PORT = 8123;

/** Where the embedded engine keeps its data unless `CLICKHOUSE_DATA_DIR` says otherwise. */
export const DEFAULT_EMBEDDED_DATA_DIR = '.data/clickhouse';

/**
 * Opens ClickHouse as configured: a server over HTTP when `CLICKHOUSE_URL` is set (with `CLICKHOUSE_USER`,
 * `CLICKHOUSE_PASSWORD`, `CLICKHOUSE_DATABASE`), else the embedded chDB engine on `CLICKHOUSE_DATA_DIR`.
 * chDB allows one process per data directory: only the worker process may call this in embedded mode.
 */
export function connectClickHouse(env: NodeJS.ProcessEnv = process.env): ClickHouse {
  if (env.CLICKHOUSE_URL) {
    const client = createClient({
      url: env.CLICKHOUSE_URL,
      username: env.CLICKHOUSE_USER ?? 'default',
      password: env.CLICKHOUSE_PASSWORD ?? '',
      database: env.CLICKHOUSE_DATABASE ?? 'default',
      request_timeout: 6 * 60 * 60 * 1000,
    });
    return wrapClient(client, false);
  }
  return openEmbeddedClickHouse(env.CLICKHOUSE_DATA_DIR ?? DEFAULT_EMBEDDED_DATA_DIR);
}

/** Opens the embedded chDB engine on `dataDir` (created if missing). */
export function openEmbeddedClickHouse(dataDir: string): ClickHouse {
  const path = resolve(dataDir);
  mkdirSync(path, { recursive: true });
  // chdb types its connection against its own copy of @clickhouse/client-common; the runtime contract is the same.
  const connection = createChdbConnection({ path }) as unknown as NonNullable<
    ClickHouseClientConfigOptions['connection']
  >;
  return wrapClient(createClient({ connection }), true);
}
