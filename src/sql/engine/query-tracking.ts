import type { Statement } from '../../clickhouse/statement';

/**
 * Where the follower reads a per-node system table: `system.processes` on one server, or an expression over every
 * replica (`clusterAllReplicas('default', system.processes)` on Cloud) given by the step's server. Never user
 * input: one of the fixed expressions the worker builds.
 */
export type NodeTableExpression = (name: 'processes' | 'query_log') => string;

/** The tables of one server. */
export const localSystemTable: NodeTableExpression = (name) => `system.${name}`;

/** Whether the query with `queryId` still runs (on any node `table` covers). */
export function selectQueryRunning(
  queryId: string,
  table: NodeTableExpression = localSystemTable,
): Statement<{ running: number }> {
  return {
    query: `SELECT count() AS running FROM ${table('processes')} WHERE query_id = {query_id:String}`,
    params: { query_id: queryId },
  };
}

/**
 * The queries whose id starts with `prefix` that still run (on any node `table` covers), with the host of each:
 * what a KILL left behind.
 */
export function selectQueriesRunningWithIdPrefix(
  prefix: string,
  table: NodeTableExpression = localSystemTable,
): Statement<{ query_id: string; host: string }> {
  return {
    query:
      `SELECT query_id, hostName() AS host FROM ${table('processes')} ` +
      'WHERE startsWith(query_id, {prefix:String}) ORDER BY query_id',
    params: { prefix },
  };
}

/** The final row `system.query_log` keeps of a query: how it ended. */
export interface QueryLogRecord {
  type: 'QueryFinish' | 'ExceptionBeforeStart' | 'ExceptionWhileProcessing';
  exception_code: number;
  exception: string;
  /** `memory_usage`: the query's peak memory, in bytes. */
  peak: string;
}

/**
 * How the query with `queryId` ended, from `system.query_log`: its `QueryFinish` or exception row, if any yet. The
 * bounds on `event_date` and `event_time` (the table's partition and sort key) come first so that the lookup reads
 * only the last moments of the log, not all of it; `sinceSeconds` is a Unix time no later than the query's start.
 */
export function selectQueryOutcome(
  queryId: string,
  sinceSeconds: number,
  table: NodeTableExpression = localSystemTable,
): Statement<QueryLogRecord> {
  return {
    query: [
      'SELECT toString(type) AS type, exception_code, exception, toString(memory_usage) AS peak',
      `FROM ${table('query_log')}`,
      'WHERE event_date >= toDate(toDateTime({since:UInt32})) AND event_time >= toDateTime({since:UInt32})',
      "  AND query_id = {query_id:String} AND type IN ('QueryFinish', 'ExceptionBeforeStart', 'ExceptionWhileProcessing')",
      'ORDER BY event_time_microseconds DESC LIMIT 1',
    ].join('\n'),
    params: { query_id: queryId, since: Math.max(0, Math.floor(sinceSeconds)) },
  };
}
