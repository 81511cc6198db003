import type { Statement } from '../../clickhouse/statement';
import { dialectOf, type ServerDialect } from './server-dialect';

/**
 * Every running query's id, `log_comment` and peak memory so far. It takes no parameter on purpose: chDB runs
 * parameterised queries one at a time across all connections of the process, so a parameterised probe would wait
 * for the very query it is meant to watch, while a plain one runs beside it.
 */
export function selectRunningQueriesPeakMemory(): Statement<{ query_id: string; log_comment: string; peak: string }> {
  return {
    query:
      "SELECT query_id, Settings['log_comment'] AS log_comment, toString(peak_memory_usage) AS peak FROM system.processes",
    params: {},
  };
}

/** Writes the server's buffered log rows, so a query that just finished is in `system.query_log`. */
export function flushLogs(): Statement {
  return { query: 'SYSTEM FLUSH LOGS', params: {} };
}

/**
 * The peak memory of a finished query from the server's query log (`memory_usage` is the query's peak). On Cloud
 * the log of every replica is read (`clusterAllReplicas`): the INSERT ran on whichever node received it.
 */
export function selectLoggedQueryPeakMemory(
  queryId: string,
  dialect: ServerDialect = dialectOf(),
): Statement<{ peak: string }> {
  return {
    query: [
      `SELECT toString(memory_usage) AS peak FROM ${dialect.systemTable('query_log')}`,
      "WHERE query_id = {query_id:String} AND type = 'QueryFinish'",
      'ORDER BY event_time_microseconds DESC LIMIT 1',
    ].join('\n'),
    params: { query_id: queryId },
  };
}
