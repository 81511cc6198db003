import type { ClickHouse } from '../clickhouse/clickhouse';

export interface Logger {
  info(message: string, meta?: Record<string, unknown>): void;
  warn(message: string, meta?: Record<string, unknown>): void;
}

/**
 * A named point inside a step, for observers (metrics, fault-injection tests): `insert:started`,
 * `insert:finished`, `backup:kept`, `swap:replaced`, `move:done` (a view partition appended; an import batch's
 * tables all moved), `move:table` (one table of an import batch moved; partition `<id>/<live table>`),
 * `cleanup:dropped`.
 */
export type StepPoint =
  | 'insert:started'
  | 'insert:finished'
  | 'backup:kept'
  | 'swap:replaced'
  | 'move:done'
  | 'move:table'
  | 'cleanup:dropped';

export interface ActivityDeps {
  clickhouse: ClickHouse;
  log: Logger;
  onStep?: (point: StepPoint, partition: string) => void | Promise<void>;
}
