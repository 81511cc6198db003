import { setTimeout as sleep } from 'node:timers/promises';
import { dialectOf, type ServerDialect } from '../sql/engine/server-dialect';
import { flushLogs, selectLoggedQueryPeakMemory, selectRunningQueriesPeakMemory } from '../sql/engine/query-memory';
import type { ClickHouse, RunOptions } from './clickhouse';
import { isClickHouseError } from './clickhouse-error';
import type { Statement } from './statement';

/** The peak memory of one query: its own memory tracker, what ClickHouse reports as "Peak memory usage". */
export interface QueryPeakMemory {
  bytes: number;
  /**
   * `query_log`: exact, from a server's `system.query_log`.
   * `sampled`: the highest `peak_memory_usage` that `samples` readings of `system.processes` saw while the query
   * ran. The figure only grows, so this misses at most the growth of the last sampling interval. The embedded
   * engine has no query log, so this is its only per-query figure (the process RSS is mostly chDB's caches).
   */
  source: 'query_log' | 'sampled';
  samples: number;
}

export interface MeasuredRunOptions extends RunOptions {
  queryId: string;
  /** Pause between two readings of `system.processes`. */
  sampleEveryMs?: number;
}

/**
 * The figure from `system.query_log`; undefined where the log is missing or has no row for the query. Read through
 * the control pool, beside the builds.
 */
export async function loggedPeak(
  ch: ClickHouse,
  queryId: string,
  dialect: ServerDialect = dialectOf(),
): Promise<number | undefined> {
  try {
    await ch.control.exec(flushLogs());
    const [row] = await ch.control.rows(selectLoggedQueryPeakMemory(queryId, dialect));
    return row ? Number(row.peak) : undefined;
  } catch (err) {
    if (isClickHouseError(err)) return undefined;
    throw err;
  }
}

/**
 * Runs `statement` on `ch` and returns its peak memory, or undefined when the query ended before the first reading.
 *
 * `probe` reads `system.processes` while the statement runs, so it must be a second connection: on the embedded
 * engine a second connection on the same data directory (same-path connections run queries side by side, while
 * `ch` itself runs one at a time); on a server any connection, `ch` included. The statement carries `queryId` as
 * its query id and, on the embedded engine, as its `log_comment` (a managed setting, reset for every other query),
 * because chDB does not pass the client's query id to the engine.
 */
export async function execWithPeakMemory(
  ch: ClickHouse,
  probe: ClickHouse,
  statement: Statement,
  options: MeasuredRunOptions,
): Promise<QueryPeakMemory | undefined> {
  const { queryId, sampleEveryMs = 25, ...runOptions } = options;
  let peak = 0;
  let samples = 0;
  let running = true;
  const sampling = (async () => {
    while (running) {
      const queries = await probe.rows(selectRunningQueriesPeakMemory());
      const measured = queries.find((q) => q.query_id === queryId || q.log_comment === queryId);
      if (measured) {
        samples += 1;
        peak = Math.max(peak, Number(measured.peak));
      }
      if (running) await sleep(sampleEveryMs);
    }
  })();
  // Never left unhandled when the statement fails first; awaited (and rethrown) below when it succeeds.
  sampling.catch(() => undefined);
  try {
    // Over HTTP the query id finds it, and the step's log_comment stays for the operator.
    const settings = ch.embedded ? { ...runOptions.settings, log_comment: queryId } : runOptions.settings;
    await ch.exec(statement, { ...runOptions, queryId, settings });
  } finally {
    running = false;
  }
  await sampling;

  const logged = ch.embedded ? undefined : await loggedPeak(probe, queryId);
  if (logged !== undefined) return { bytes: logged, source: 'query_log', samples };
  return samples > 0 ? { bytes: peak, source: 'sampled', samples } : undefined;
}
