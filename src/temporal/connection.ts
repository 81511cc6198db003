import path from 'node:path';
import { loadClientConfigProfile, toClientOptions, type ClientConfigProfile } from '@temporalio/envconfig';
import type { NativeConnectionOptions } from '@temporalio/worker';
import { DEFAULT_TEMPORAL_PORT, startDevServer } from './dev-server';

/** Where and how to reach Temporal. */
export interface TemporalTarget {
  /** `host:port` of the Temporal frontend. */
  address: string;
  namespace: string;
  /** Accepted by both `Connection.connect` (@temporalio/client) and `NativeConnection.connect` (@temporalio/worker). */
  connectionOptions: NativeConnectionOptions;
}

/** A {@link TemporalTarget} and whether the configuration named a server at all (else: a local dev server). */
export interface TemporalConfig extends TemporalTarget {
  addressConfigured: boolean;
  /** The API key, if any: a credential that must never reach a log line. */
  apiKey?: string;
}

/** Names this tool once read, and the standard variables that replace them. */
const RETIRED_VARIABLES: Record<string, string> = {
  TEMPORAL_TLS_CERT: 'TEMPORAL_TLS_CLIENT_CERT_PATH',
  TEMPORAL_TLS_KEY: 'TEMPORAL_TLS_CLIENT_KEY_PATH',
  TEMPORAL_TLS_CA: 'TEMPORAL_TLS_SERVER_CA_CERT_PATH',
};

/**
 * The environment as envconfig should see it. An exported but empty variable (`TEMPORAL_ADDRESS=` in an env file)
 * means unset, as it did for this tool before; only `TEMPORAL_GRPC_META_*` keep their empty values, which remove a
 * header a profile sets.
 */
function meaningfulEnv(env: NodeJS.ProcessEnv): Record<string, string> {
  return Object.fromEntries(
    Object.entries(env).filter(
      (entry): entry is [string, string] =>
        entry[1] !== undefined && (entry[1] !== '' || entry[0].startsWith('TEMPORAL_GRPC_META_')),
    ),
  );
}

/**
 * Reads the Temporal client configuration the standard way (`@temporalio/envconfig`, as the Temporal CLI and the
 * other SDKs do): the profile `TEMPORAL_PROFILE` (default `default`) of the TOML file `TEMPORAL_CONFIG_FILE`
 * (default `~/.config/temporalio/temporal.toml`, optional), overridden by the environment variables
 * `TEMPORAL_ADDRESS`, `TEMPORAL_NAMESPACE`, `TEMPORAL_API_KEY`, `TEMPORAL_TLS`, `TEMPORAL_TLS_CLIENT_CERT_PATH`,
 * `TEMPORAL_TLS_CLIENT_KEY_PATH`, `TEMPORAL_TLS_SERVER_CA_CERT_PATH`, `TEMPORAL_TLS_SERVER_NAME`, their `*_DATA`
 * forms and `TEMPORAL_GRPC_META_*`. Without an address the local dev server's `127.0.0.1:7233` is used, without a
 * namespace `default`. An API key turns TLS on unless `TEMPORAL_TLS=false`.
 *
 * @param env - Environment to read; defaults to `process.env`.
 * @throws Error naming the standard replacement when a retired variable (`TEMPORAL_TLS_CERT`, …) is set, when only
 *   one of the client certificate and key is configured, or when the profile or a PEM file cannot be read.
 */
export function temporalConfigFromEnv(env: NodeJS.ProcessEnv = process.env): TemporalConfig {
  const vars = meaningfulEnv(env);
  for (const [retired, standard] of Object.entries(RETIRED_VARIABLES)) {
    if (vars[retired] !== undefined) {
      throw new Error(`${retired} is no longer read: set the standard Temporal variable ${standard} instead.`);
    }
  }
  let profile: ClientConfigProfile;
  let connectionOptions: NativeConnectionOptions;
  try {
    profile = loadClientConfigProfile({ overrideEnvVars: vars });
    // envconfig would silently connect without mTLS when only one half of the pair is given.
    if (Boolean(profile.tls?.clientCert) !== Boolean(profile.tls?.clientKey)) {
      throw new Error(
        'a TLS client certificate and key must be set together ' +
          '(TEMPORAL_TLS_CLIENT_CERT_PATH and TEMPORAL_TLS_CLIENT_KEY_PATH, or tls.client_cert_* and tls.client_key_*)',
      );
    }
    connectionOptions = toClientOptions(profile).connectionOptions;
  } catch (err) {
    const where =
      `profile '${vars.TEMPORAL_PROFILE ?? 'default'}'` +
      (vars.TEMPORAL_CONFIG_FILE ? ` of ${vars.TEMPORAL_CONFIG_FILE}` : '');
    throw new Error(`Temporal client configuration (${where}): ${(err as Error).message}`, { cause: err });
  }
  const address = profile.address ?? `127.0.0.1:${DEFAULT_TEMPORAL_PORT}`;
  return {
    address,
    namespace: profile.namespace ?? 'default',
    connectionOptions: { ...connectionOptions, address },
    addressConfigured: profile.address !== undefined,
    ...(profile.apiKey ? { apiKey: profile.apiKey } : {}),
  };
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
 * Runs `fn` against Temporal. If the configuration names a server (`TEMPORAL_ADDRESS` or a profile's `address`,
 * see {@link temporalConfigFromEnv}), that server is used as is. Otherwise a local dev server is started (gRPC port
 * 7233 and UI port 8233 unless `opts` say otherwise) with its database at `<dataDir>/temporal.db`, and stopped when
 * `fn` settles or the process receives SIGINT/SIGTERM.
 *
 * @param fn - Work to do; receives the address, namespace and connection options to use.
 * @param opts - Data directory, logger, and optionally the environment and dev server ports.
 * @returns Whatever `fn` returns.
 */
export async function withTemporal<T>(fn: (t: TemporalTarget) => Promise<T>, opts: WithTemporalOptions): Promise<T> {
  const config = temporalConfigFromEnv(opts.env ?? process.env);
  if (config.addressConfigured) {
    opts.log(`Using Temporal at ${config.address} (namespace ${config.namespace})`);
    return fn(config);
  }

  const server = await startDevServer({
    dbFile: path.join(opts.dataDir, 'temporal.db'),
    port: opts.port,
    uiPort: opts.uiPort,
    namespace: config.namespace,
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
      namespace: config.namespace,
      connectionOptions: { address: server.address },
    });
  } finally {
    process.off('SIGINT', onSignal).off('SIGTERM', onSignal);
    await server.stop();
  }
}
