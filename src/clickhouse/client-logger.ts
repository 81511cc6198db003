import type { Logger as ClientLogger, ErrorLogParams, LogParams, WarnLogParams } from '@clickhouse/client';

/** The part of Temporal's logger (our JSON logger in the worker) the client's log lines go to. */
export interface LineLogger {
  trace(message: string, meta?: Record<string, unknown>): void;
  debug(message: string, meta?: Record<string, unknown>): void;
  info(message: string, meta?: Record<string, unknown>): void;
  warn(message: string, meta?: Record<string, unknown>): void;
  error(message: string, meta?: Record<string, unknown>): void;
}

/**
 * A `log.LoggerClass` for @clickhouse/client that writes its lines through `log` (which redacts credentials),
 * instead of the client's own console output: `message` prefixed `clickhouse client:`, with its module, arguments
 * and error as attributes.
 */
export function clientLoggerClass(log: LineLogger): new () => ClientLogger {
  const meta = ({ module, args }: LogParams, err?: Error) => ({
    module,
    ...(args !== undefined ? { args } : {}),
    ...(err !== undefined ? { error: err } : {}),
  });
  return class implements ClientLogger {
    trace(p: LogParams) {
      log.trace(`clickhouse client: ${p.message}`, meta(p));
    }
    debug(p: LogParams) {
      log.debug(`clickhouse client: ${p.message}`, meta(p));
    }
    info(p: LogParams) {
      log.info(`clickhouse client: ${p.message}`, meta(p));
    }
    warn(p: WarnLogParams) {
      log.warn(`clickhouse client: ${p.message}`, meta(p, p.err));
    }
    error(p: ErrorLogParams) {
      log.error(`clickhouse client: ${p.message}`, meta(p, p.err));
    }
  };
}
