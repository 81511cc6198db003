import { createClient, type ClickHouseClientConfigOptions } from '@clickhouse/client';
import { createChdbConnection } from 'chdb/connection';
import { mkdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { wrapClient, type ClickHouse } from './clickhouse';
import { checkClickHouseUrl } from './clickhouse-url';
import { clientLoggerClass, type LineLogger } from './client-logger';
import { CLICKHOUSE_APPLICATION } from './query-label';

/** HTTP port of a ClickHouse server started from temporal-dev.yml. */
export const DEFAULT_CLICKHOUSE_HTTP_PORT = 8123;

/** Where the embedded engine keeps its data unless `CLICKHOUSE_DATA_DIR` says otherwise. */
export const DEFAULT_EMBEDDED_DATA_DIR = '.data/clickhouse';

/**
 * The @clickhouse/client options for a server over HTTP, from `CLICKHOUSE_URL` (checked by
 * {@link checkClickHouseUrl}: no `session_id`), `CLICKHOUSE_USER`, `CLICKHOUSE_PASSWORD`, `CLICKHOUSE_DATABASE`
 * and `CLICKHOUSE_CA_CERT` (path of a PEM CA certificate for a server whose certificate a private CA signed).
 * Every query names the application; the client's own log lines go to `log` when given. Warnings (`http://` to a
 * host other than loopback) go to `log.warn`.
 */
export function httpClientOptions(env: NodeJS.ProcessEnv, log?: LineLogger): ClickHouseClientConfigOptions {
  const url = env.CLICKHOUSE_URL ?? '';
  const { warnings } = checkClickHouseUrl(url);
  for (const warning of warnings) log?.warn(warning);
  return {
    url,
    username: env.CLICKHOUSE_USER ?? 'default',
    password: env.CLICKHOUSE_PASSWORD ?? '',
    database: env.CLICKHOUSE_DATABASE ?? 'default',
    application: CLICKHOUSE_APPLICATION,
    request_timeout: 6 * 60 * 60 * 1000,
    ...(env.CLICKHOUSE_CA_CERT ? { tls: { ca_cert: readFileSync(env.CLICKHOUSE_CA_CERT) } } : {}),
    ...(log ? { log: { LoggerClass: clientLoggerClass(log) } } : {}),
  };
}

/**
 * Opens ClickHouse as configured: a server over HTTP when `CLICKHOUSE_URL` is set (see {@link httpClientOptions}),
 * else the embedded chDB engine on `CLICKHOUSE_DATA_DIR`. chDB allows one process per data directory: only the
 * worker process may call this in embedded mode.
 *
 * @throws Error when `CLICKHOUSE_URL` does not parse or sets a `session_id`.
 */
export function connectClickHouse(env: NodeJS.ProcessEnv = process.env, log?: LineLogger): ClickHouse {
  if (env.CLICKHOUSE_URL) return wrapClient(createClient(httpClientOptions(env, log)), false);
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
