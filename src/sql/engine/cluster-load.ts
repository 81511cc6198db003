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
    params: {
      source_db: source.database,
      source_table: source.name,
      target_db: target.database,
      target_table: target.name,
    },
  };
}
