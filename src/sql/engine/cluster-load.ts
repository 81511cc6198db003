import type { Statement } from '../../clickhouse/statement';
import type { TableRef } from '../../shared/table-ref';
import { dialectOf, type ServerDialect } from './server-dialect';

/** The load signals' row: 64-bit counts as strings, `fullest` as (parts, `database.table/partition`). */
export interface ClusterLoadRow {
  running_queries: string;
  max_query_memory: string;
  active_merges: string;
  pending_mutations: string;
  fullest: [string, string];
  pool_tasks: string;
  delayed_inserts: string;
  memory_tracking: string;
}

/**
 * One row of load signals: running queries and the largest one's memory, merges, unfinished mutations on the
 * target, the fullest partition (active parts) of the source or target, and three `system.metrics` gauges.
 * The query counts itself among the running queries. On Cloud the per-node tables (processes, merges, metrics)
 * are read over all replicas (`clusterAllReplicas`, the dialect's `systemTable`); parts and mutations of shared
 * storage are the table's own, the same on every replica, so they are read where the query lands; on a sharded
 * cluster each node's own, over every replica of every shard (the caller names the local tables).
 */
export function selectClusterLoad(
  source: TableRef,
  target: TableRef,
  dialect: ServerDialect = dialectOf(),
): Statement<ClusterLoadRow> {
  const sys = dialect.systemTable;
  // Each node's own parts and mutations where they differ per node (a sharded cluster's local tables).
  const parts = dialect.perNodeParts ? sys('parts') : 'system.parts';
  const mutations = dialect.perNodeParts ? sys('mutations') : 'system.mutations';
  return {
    query: [
      'SELECT',
      `  (SELECT count() FROM ${sys('processes')}) AS running_queries,`,
      `  (SELECT max(memory_usage) FROM ${sys('processes')}) AS max_query_memory,`,
      `  (SELECT count() FROM ${sys('merges')}) AS active_merges,`,
      `  (SELECT count() FROM ${mutations} WHERE is_done = 0`,
      '     AND database = {target_db:String} AND table = {target_table:String}) AS pending_mutations,',
      '  (SELECT (max(parts), argMax(place, parts)) FROM (',
      `     SELECT count() AS parts, concat(database, '.', table, '/', partition_id) AS place FROM ${parts}`,
      '     WHERE active AND ((database = {source_db:String} AND table = {source_table:String})',
      '       OR (database = {target_db:String} AND table = {target_table:String}))',
      '     GROUP BY database, table, partition_id)) AS fullest,',
      `  (SELECT sumIf(value, metric = 'BackgroundMergesAndMutationsPoolTask') FROM ${sys('metrics')}) AS pool_tasks,`,
      `  (SELECT sumIf(value, metric = 'DelayedInserts') FROM ${sys('metrics')}) AS delayed_inserts,`,
      `  (SELECT sumIf(value, metric = 'MemoryTracking') FROM ${sys('metrics')}) AS memory_tracking`,
    ].join('\n'),
    params: loadParams(source, target),
  };
}

/** One signal of one host: `value` a number as text; `place` the fullest partition (`fullest` only). */
export interface HostLoadRow {
  host: string;
  signal: keyof Omit<ClusterLoadRow, 'fullest'> | 'fullest';
  value: string;
  place: string;
}

/**
 * The load signals of {@link selectClusterLoad} per host, one row per (host, signal), on a self-managed cluster
 * (`dialect.loadPerHost`): every node's own processes, merges, mutations, parts and metrics over every replica of
 * every shard (`clusterAllReplicas`), grouped by `hostName()` rather than summed, so the load guard compares hosts
 * and pauses on the worst one, naming it. A host with no row for a signal (no running merge) reads as 0.
 */
export function selectClusterLoadPerHost(
  source: TableRef,
  target: TableRef,
  dialect: ServerDialect,
): Statement<HostLoadRow> {
  const sys = dialect.systemTable;
  const metric = (signal: string, name: string) =>
    `SELECT hostName() AS host, '${signal}' AS signal, toString(sumIf(value, metric = '${name}')) AS value, '' AS place ` +
    `FROM ${sys('metrics')} GROUP BY host`;
  return {
    query: [
      `SELECT hostName() AS host, 'running_queries' AS signal, toString(count()) AS value, '' AS place FROM ${sys('processes')} GROUP BY host`,
      `UNION ALL SELECT hostName() AS host, 'max_query_memory' AS signal, toString(max(memory_usage)) AS value, '' AS place FROM ${sys('processes')} GROUP BY host`,
      `UNION ALL SELECT hostName() AS host, 'active_merges' AS signal, toString(count()) AS value, '' AS place FROM ${sys('merges')} GROUP BY host`,
      `UNION ALL SELECT hostName() AS host, 'pending_mutations' AS signal, toString(count()) AS value, '' AS place FROM ${sys('mutations')}`,
      '  WHERE is_done = 0 AND database = {target_db:String} AND table = {target_table:String} GROUP BY host',
      "UNION ALL SELECT host, 'fullest' AS signal, toString(max(parts)) AS value, argMax(place, parts) AS place FROM (",
      `  SELECT hostName() AS host, count() AS parts, concat(database, '.', table, '/', partition_id) AS place FROM ${sys('parts')}`,
      '  WHERE active AND ((database = {source_db:String} AND table = {source_table:String})',
      '    OR (database = {target_db:String} AND table = {target_table:String}))',
      '  GROUP BY host, database, table, partition_id) GROUP BY host',
      `UNION ALL ${metric('pool_tasks', 'BackgroundMergesAndMutationsPoolTask')}`,
      `UNION ALL ${metric('delayed_inserts', 'DelayedInserts')}`,
      `UNION ALL ${metric('memory_tracking', 'MemoryTracking')}`,
    ].join('\n'),
    params: loadParams(source, target),
  };
}

/** The source and target whose parts and mutations the load statements read, as their query parameters. */
function loadParams(source: TableRef, target: TableRef) {
  return {
    source_db: source.database,
    source_table: source.name,
    target_db: target.database,
    target_table: target.name,
  };
}
