import type { LogLevel, LogMetadata } from '@temporalio/common';
import { DefaultLogger, type LogEntry, type LogExporterConfig } from '@temporalio/worker';
import { clickHouseUrlSecrets } from '../clickhouse/clickhouse-url';
import { temporalConfigFromEnv } from '../temporal/connection';

const LEVELS: readonly LogLevel[] = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR'];

/**
 * `LOG_LEVEL` (case-insensitive: trace, debug, info, warn, error), default `info`.
 *
 * @throws Error listing the accepted levels for anything else.
 */
export function logLevelFromEnv(env: NodeJS.ProcessEnv = process.env): LogLevel {
  const level = (env.LOG_LEVEL || 'info').toUpperCase() as LogLevel;
  if (!LEVELS.includes(level)) {
    throw new Error(
      `LOG_LEVEL must be one of ${LEVELS.join(', ').toLowerCase()}, not ${JSON.stringify(env.LOG_LEVEL)}`,
    );
  }
  return level;
}

/**
 * Every credential the configuration holds: the ClickHouse password (also inside `CLICKHOUSE_URL`, with the URL's
 * credential-like query values), the Temporal API key (from the environment or a profile), inline TLS keys and the
 * codec server's auth header.
 */
export function credentialsFromEnv(env: NodeJS.ProcessEnv = process.env): string[] {
  return [
    env.CLICKHOUSE_PASSWORD,
    ...clickHouseUrlSecrets(env.CLICKHOUSE_URL),
    temporalConfigFromEnv(env).apiKey,
    env.TEMPORAL_TLS_CLIENT_KEY_DATA,
    env.TEMPORAL_CODEC_AUTH,
  ].filter((secret): secret is string => Boolean(secret));
}

/** JSON-safe form of a log attribute: errors as their name, message and causes; bigints as strings. */
function jsonValue(_key: string, value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Error) {
    const { name, message, cause } = value as Error & { cause?: unknown };
    return { name, message, ...(cause !== undefined ? { cause } : {}) };
  }
  return value;
}

export interface JsonLoggerOptions {
  level: LogLevel;
  /** Receives each line, newline included. */
  write: (line: string) => void;
  /** Values replaced by `[redacted]` wherever they appear in a line. */
  redact?: string[];
}

/**
 * A Temporal {@link DefaultLogger} that writes one JSON object per line: `time`, `level`, `message` and the
 * entry's attributes (for an activity: `workflowId`, `activityType`, and what our interceptor adds, `partition`
 * and `step`). A credential is replaced wherever it appears, as a last guard: nothing is meant to log one.
 */
export function jsonLineLogger({ level, write, redact = [] }: JsonLoggerOptions): DefaultLogger {
  const secrets = redact.filter((s) => s.length > 0);
  return new DefaultLogger(level, ({ level, message, meta, timestampNanos }: LogEntry) => {
    const time = new Date(Number(timestampNanos / 1_000_000n)).toISOString();
    let line: string;
    try {
      line = JSON.stringify({ time, level: level.toLowerCase(), message, ...(meta as LogMetadata) }, jsonValue);
    } catch (err) {
      line = JSON.stringify({ time, level: level.toLowerCase(), message, logError: (err as Error).message });
    }
    for (const secret of secrets) line = line.split(secret).join('[redacted]');
    write(`${line}\n`);
  });
}

/**
 * The Runtime options that route all of this process's Temporal logging (the SDK's, workflows' `log`, activities'
 * context logger, and the native core's, forwarded) into {@link jsonLineLogger} at `LOG_LEVEL`, redacting the
 * configured credentials. Installed by `installWorkerRuntime` (src/worker/worker-runtime.ts).
 */
export function jsonRuntimeLogging(
  env: NodeJS.ProcessEnv,
  write: (line: string) => void,
): { logger: DefaultLogger; logging: LogExporterConfig } {
  const level = logLevelFromEnv(env);
  return {
    logger: jsonLineLogger({ level, write, redact: credentialsFromEnv(env) }),
    logging: { forward: {}, filter: { core: level, other: 'ERROR' } },
  };
}
