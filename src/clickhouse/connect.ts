import { createClient, type ClickHouseClientConfigOptions } from '@clickhouse/client';
import { createChdbConnection } from 'chdb/connection';
import { mkdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { wrapClient, wrapHttpClient, type ClickHouse } from './clickhouse';
import { checkClickHouseUrl } from './clickhouse-url';
import { clientLoggerClass, type LineLogger } from './client-logger';
import { DEFAULT_TRACKING, type TrackingOptions } from './query-follower';
import { CLICKHOUSE_APPLICATION } from './query-label';

/** HTTP port of a ClickHouse server started from temporal-dev.yml. */
export const DEFAULT_CLICKHOUSE_HTTP_PORT = 8123;

/** Partitions a worker builds at once unless `BACKFILL_MAX_PARALLELISM` says otherwise. */
export const DEFAULT_MAX_PARALLELISM = 8;

/** Connections of the control pool unless `CLICKHOUSE_CONTROL_CONNECTIONS` says otherwise. */
export const DEFAULT_CONTROL_CONNECTIONS = 3;

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

/** The request timeout of the control pool: its statements are quick, a silent socket there is dead. */
const CONTROL_TIMEOUT_MS = 60_000;

/** How the worker talks to a server over HTTP: its two connection pools and how it tracks long statements. */
export interface HttpPools {
  /** Sockets of the main pool: one per partition built at once, and two for the steps beside them. */
  mainConnections: number;
  /** Sockets of the control pool (KILL, `system.*` reads, load checks, the follower's reads). */
  controlConnections: number;
  tracking: TrackingOptions;
}

function positiveInteger(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const text = env[name]?.trim();
  if (!text) return fallback;
  if (!/^\d+$/.test(text) || Number(text) < 1)
    throw new Error(`${name} must be a positive integer, not ${JSON.stringify(text)}`);
  return Number(text);
}

/**
 * The pools and tracking from the environment: `BACKFILL_MAX_PARALLELISM` (the most partitions this worker builds
 * at once, i.e. the sum of the `parallelism` of the jobs it serves side by side; default 8) sizes the main pool at
 * that plus 2; `CLICKHOUSE_CONTROL_CONNECTIONS` (default 3) the control pool. `CLICKHOUSE_TRACKED_WAIT_SECONDS`
 * (default 300), `CLICKHOUSE_FOLLOW_POLL_SECONDS` (default 5) and `CLICKHOUSE_QUERY_LOST_SECONDS` (default 60)
 * set how a statement tracked by query id is waited for and followed (see {@link TrackingOptions}).
 *
 * @throws Error naming the variable that is not a positive integer.
 */
export function httpPoolsFromEnv(env: NodeJS.ProcessEnv): HttpPools {
  const seconds = (name: string, fallbackMs: number) => positiveInteger(env, name, fallbackMs / 1000) * 1000;
  return {
    mainConnections: positiveInteger(env, 'BACKFILL_MAX_PARALLELISM', DEFAULT_MAX_PARALLELISM) + 2,
    controlConnections: positiveInteger(env, 'CLICKHOUSE_CONTROL_CONNECTIONS', DEFAULT_CONTROL_CONNECTIONS),
    tracking: {
      waitMs: seconds('CLICKHOUSE_TRACKED_WAIT_SECONDS', DEFAULT_TRACKING.waitMs),
      pollMs: seconds('CLICKHOUSE_FOLLOW_POLL_SECONDS', DEFAULT_TRACKING.pollMs),
      lostAfterMs: seconds('CLICKHOUSE_QUERY_LOST_SECONDS', DEFAULT_TRACKING.lostAfterMs),
    },
  };
}

/**
 * Opens ClickHouse as configured: a server over HTTP when `CLICKHOUSE_URL` is set (see {@link httpClientOptions}),
 * with a main and a control pool (see {@link httpPoolsFromEnv}), else the embedded chDB engine on
 * `CLICKHOUSE_DATA_DIR`. chDB allows one process per data directory: only the worker process may call this in
 * embedded mode.
 *
 * @throws Error when `CLICKHOUSE_URL` does not parse or sets a `session_id`, or a pool variable is not a number.
 */
export function connectClickHouse(env: NodeJS.ProcessEnv = process.env, log?: LineLogger): ClickHouse {
  if (env.CLICKHOUSE_URL) {
    const options = httpClientOptions(env, log);
    const pools = httpPoolsFromEnv(env);
    return wrapHttpClient(
      createClient({ ...options, max_open_connections: pools.mainConnections }),
      // Control statements are quick: a socket that stops answering is given up within a minute.
      createClient({ ...options, max_open_connections: pools.controlConnections, request_timeout: CONTROL_TIMEOUT_MS }),
      pools.tracking,
    );
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
