import type { Statement } from '../../clickhouse/statement';

/** The server's version, e.g. `26.7.1.1`. */
export function selectVersion(): Statement<{ version: string }> {
  return { query: 'SELECT version() AS version', params: {} };
}

/** The host that answered this request: over several requests, more than one means a load-balanced URL. */
export function selectHostName(): Statement<{ host: string }> {
  return { query: 'SELECT hostName() AS host', params: {} };
}

/** Whether the server runs as ClickHouse Cloud (`cloud_mode`; absent on servers that do not know the setting). */
export function selectCloudMode(): Statement<{ value: string }> {
  return { query: "SELECT value FROM system.settings WHERE name = 'cloud_mode'", params: {} };
}

/** The engine of each of `names` that exists, from `system.databases`. */
export function selectDatabaseEngines(names: string[]): Statement<{ name: string; engine: string }> {
  return {
    query: 'SELECT name, engine FROM system.databases WHERE name IN {names:Array(String)} ORDER BY name',
    params: { names },
  };
}

/**
 * The engines of the tables named by `databases` × `names` that exist (a superset of the tables wanted: the caller
 * keeps the pairs it asked for).
 */
export function selectTableEngines(
  databases: string[],
  names: string[],
): Statement<{ database: string; name: string; engine: string; engine_full: string }> {
  return {
    query:
      'SELECT database, name, engine, engine_full FROM system.tables ' +
      'WHERE database IN {databases:Array(String)} AND name IN {names:Array(String)} ORDER BY database, name',
    params: { databases, names },
  };
}

/**
 * Each cluster of `system.clusters`: its shards, the most replicas of any shard, and whether one of its hosts is
 * the server that answers (`local`: 1).
 */
export function selectClusters(): Statement<{ name: string; shards: string; replicas: string; local?: string }> {
  return {
    query:
      'SELECT cluster AS name, uniqExact(shard_num) AS shards, max(replica_num) AS replicas, ' +
      'toString(max(is_local)) AS local ' +
      'FROM system.clusters GROUP BY cluster ORDER BY cluster',
    params: {},
  };
}

/**
 * The partitions with pending lightweight-update patch parts (active parts whose partition id starts `patch-`) of
 * the tables `databases` × `names`, one row per table and partition id.
 */
export function selectPatchPartitions(
  databases: string[],
  names: string[],
): Statement<{ database: string; table: string; partition_id: string }> {
  return {
    query:
      'SELECT DISTINCT database, table, partition_id FROM system.parts ' +
      'WHERE active AND database IN {databases:Array(String)} AND table IN {names:Array(String)} ' +
      "AND startsWith(partition_id, 'patch-') ORDER BY database, table, partition_id",
    params: { databases, names },
  };
}

/** The replicas of every shard of `cluster` (`system.clusters`): shard number, its weight and host name, in order. */
export function selectClusterHosts(cluster: string): Statement<{ shard: string; host: string; weight?: string }> {
  return {
    query:
      'SELECT toString(shard_num) AS shard, toString(shard_weight) AS weight, host_name AS host FROM system.clusters ' +
      'WHERE cluster = {cluster:String} ORDER BY shard_num, replica_num',
    params: { cluster },
  };
}
