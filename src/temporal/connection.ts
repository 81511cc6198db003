import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { TLSConfig } from '@temporalio/client';
import { DEFAULT_TEMPORAL_PORT, startDevServer } from './dev-server';

/**
 * Options accepted by both `Connection.connect` (@temporalio/client) and
 * `NativeConnection.connect` (@temporalio/worker).
 */
export interface TemporalConnectionOptions {
  address: string;
  tls?: TLSConfig | boolean;
  apiKey?: string;
}

/** Where and how to reach Temporal. */
export interface TemporalTarget {
  /** `host:port` of the Temporal frontend. */
  address: string;
  namespace: string;
  connectionOptions: TemporalConnectionOptions;
}

function readPemFile(envName: string, file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    throw new Error(`Cannot read ${envName} file '${file}': ${(err as Error).message}`);
  }
}

/**
 * Builds Temporal connection settings from environment variables:
 * - `TEMPORAL_ADDRESS` (default `127.0.0.1:7233`),
 * - `TEMPORAL_NAMESPACE` (default `default`),
 * - `TEMPORAL_TLS_CERT` + `TEMPORAL_TLS_KEY`: paths of a PEM client certificate and key (mTLS),
 * - `TEMPORAL_TLS_CA`: optional path of a PEM CA certificate for servers with a private CA,
 * - `TEMPORAL_API_KEY`: API key (implies TLS), e.g. for Temporal Cloud.
 *
 * @param env - Environment to read; defaults to `process.env`.
 * @returns Address, namespace and options for `Connection.connect` / `NativeConnection.connect`.
 * @throws Error if only one of `TEMPORAL_TLS_CERT` / `TEMPORAL_TLS_KEY` is set or a PEM file cannot be read.
 */
export function temporalConnectionOptionsFromEnv(env: NodeJS.ProcessEnv = process.env): TemporalTarget {
  const address = env.TEMPORAL_ADDRESS || `127.0.0.1:${DEFAULT_TEMPORAL_PORT}`;
  const namespace = env.TEMPORAL_NAMESPACE || 'default';
  const { TEMPORAL_TLS_CERT: certFile, TEMPORAL_TLS_KEY: keyFile, TEMPORAL_TLS_CA: caFile } = env;
  const apiKey = env.TEMPORAL_API_KEY || undefined;

  if (Boolean(certFile) !== Boolean(keyFile)) {
    throw new Error(
      'TEMPORAL_TLS_CERT and TEMPORAL_TLS_KEY must be set together (paths of the PEM client certificate and key).',
    );
  }
  const tlsConfig: TLSConfig = {};
  if (certFile && keyFile) {
    tlsConfig.clientCertPair = {
      crt: readPemFile('TEMPORAL_TLS_CERT', certFile),
      key: readPemFile('TEMPORAL_TLS_KEY', keyFile),
    };
  }
  if (caFile) {
    tlsConfig.serverRootCACertificate = readPemFile('TEMPORAL_TLS_CA', caFile);
  }
  // An API key (e.g. Temporal Cloud) is only ever sent over TLS.
  const tls = Object.keys(tlsConfig).length > 0 ? tlsConfig : apiKey ? true : undefined;

  const connectionOptions: TemporalConnectionOptions = { address };
  if (tls !== undefined) connectionOptions.tls = tls;
  if (apiKey) connectionOptions.apiKey = apiKey;
  return { address, namespace, connectionOptions };
}

/** Options for {@link withTemporal}. */
export interface WithTemporalOptions {
  /** Directory for local state; the dev server persists to `<dataDir>/temporal.db`. */
  dataDir: string;
  log: (msg: string) => void;
  /** Environment to read the connection settings from; defaults to `process.env`. */
  env?: NodeJS.ProcessEnv;
  /** Dev server gRPC port; defaults to {@link DEFAULT_TEMPORAL_PORT}. */
  port?: number;
  /** Dev server Web UI port; defaults to 8233. */
  uiPort?: number;
}

/**
 * Runs `fn` against Temporal. If `TEMPORAL_ADDRESS` is set, the configured server is used as is (see
 * {@link temporalConnectionOptionsFromEnv}). Otherwise a local dev server is started (gRPC port 7233 and UI port
 * 8233 unless `opts` say otherwise) with its database at `<dataDir>/temporal.db`, and stopped when `fn` settles or
 * the process receives SIGINT/SIGTERM.
 *
 * @param fn - Work to do; receives the address, namespace and connection options to use.
 * @param opts - Data directory, logger, and optionally the environment and dev server ports.
 * @returns Whatever `fn` returns.
 */
export async function withTemporal<T>(fn: (t: TemporalTarget) => Promise<T>, opts: WithTemporalOptions): Promise<T> {
  const env = opts.env ?? process.env;
  const target = temporalConnectionOptionsFromEnv(env);
  if (env.TEMPORAL_ADDRESS) {
    opts.log(`Using Temporal at ${target.address} (namespace ${target.namespace})`);
    return fn(target);
  }

  const server = await startDevServer({
    dbFile: path.join(opts.dataDir, 'temporal.db'),
    port: opts.port,
    uiPort: opts.uiPort,
    namespace: target.namespace,
    log: opts.log,
  });
  const onSignal = (signal: NodeJS.Signals): void => {
    void server.stop().finally(() => {
      process.off('SIGINT', onSignal).off('SIGTERM', onSignal);
      // Without other handlers, re-raise so the process terminates the way it would have without us.
      if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
    });
  };
  process.on('SIGINT', onSignal).on('SIGTERM', onSignal);
  try {
    return await fn({
      address: server.address,
      namespace: target.namespace,
      connectionOptions: { address: server.address },
    });
  } finally {
    process.off('SIGINT', onSignal).off('SIGTERM', onSignal);
    await server.stop();
  }
}
