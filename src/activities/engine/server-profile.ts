import type { ClickHouse } from '../../clickhouse/clickhouse';
import { isReplicatedEngine, isSharedEngine } from '../../clickhouse/engine-family';
import {
  versionAtLeast,
  type DistributedTable,
  type ReplicatedTarget,
  type ServerProfile,
  type ShardedTarget,
  type Topology,
} from '../../shared/server-profile';
import type { TableRef } from '../../shared/table-ref';
import { distributedTableOf } from '../../sql/engine/distributed-engine';
import {
  selectCloudMode,
  selectClusterHosts,
  selectClusters,
  selectDatabaseEngines,
  selectHostName,
  selectPatchPartitions,
  selectTableEngines,
  selectVersion,
} from '../../sql/engine/server-profile';

/** `hostName()` requests over HTTP: enough that a URL balanced over a few replicas very likely shows two. */
const HOST_PROBES = 5;

/** Lightweight UPDATE (patch parts) exists from 25.7; before it no table can have patch parts. */
const LIGHTWEIGHT_UPDATES = [25, 7] as const;

/** What detection found, before the topology is decided from it. */
export type ServerFacts = Omit<ServerProfile, 'topology'> & {
  embedded: boolean;
  /** The server says it is ClickHouse Cloud (`cloud_mode`). */
  cloudMode: boolean;
};

/**
 * The topology of a server from what detection found:
 * - `embedded`: the in-process engine;
 * - `cloud`: any `Shared…` table or database engine, or the server says it runs in Cloud mode;
 * - `sharded-cluster`: a `Distributed` table among the job's, or a job database of engine `Replicated` whose
 *   cluster (named after the database) has more than one shard;
 * - `replicated-cluster`: a `Replicated…MergeTree` table among the job's, or a `Replicated` database behind
 *   several hosts;
 * - `single-server` otherwise. The clusters of `system.clusters` alone decide nothing: a stock server lists
 *   sample clusters (`test_shard_localhost`, …) it does not belong to.
 */
export function topologyOf(facts: ServerFacts): Topology {
  if (facts.embedded) return 'embedded';
  const tableEngines = Object.values(facts.tableEngines);
  const databases = Object.entries(facts.databaseEngines);
  if (facts.cloudMode || [...tableEngines, ...databases.map(([, e]) => e)].some(isSharedEngineName)) return 'cloud';
  const replicatedDatabases = databases.filter(([, engine]) => engine === 'Replicated').map(([name]) => name);
  const shardsOf = (cluster: string) => facts.clusters.find((c) => c.name === cluster)?.shards ?? 1;
  if (tableEngines.includes('Distributed') || replicatedDatabases.some((db) => shardsOf(db) > 1)) {
    return 'sharded-cluster';
  }
  if (tableEngines.some(isReplicatedEngine) || (replicatedDatabases.length > 0 && facts.hosts.length > 1)) {
    return 'replicated-cluster';
  }
  return 'single-server';
}

/** `SharedMergeTree`-family tables and Cloud's `Shared` database engine. */
function isSharedEngineName(engine: string): boolean {
  return engine === 'Shared' || isSharedEngine(engine);
}

const unique = (values: string[]): string[] => [...new Set(values)].sort();

/** What the caller knows of the job: its target (whose database decides the cluster) and its `cluster:`. */
export interface ProfileRequest {
  target?: TableRef;
  cluster?: string;
  /**
   * On a sharded cluster: further tables the job writes on every shard (an import's view targets), whose
   * `engine_full` the profile records with the local tables' (their duplicates are created with it).
   */
  shardTables?: TableRef[];
}

/**
 * The cluster a replicated target's DDL and per-replica reads address: a `Replicated` database's own cluster (named
 * after it); in an `Atomic` database the job's `cluster:`, else the only cluster whose hosts include the server
 * (`is_local`). None when that is not known for sure: the plan then refuses, asking for `cluster:`.
 */
export function clusterOf(
  facts: Pick<ServerProfile, 'databaseEngines' | 'clusters'>,
  local: string[],
  engines: Record<string, string>,
  request: ProfileRequest,
): ReplicatedTarget | undefined {
  const database = request.target?.database;
  if (database === undefined) return undefined;
  const engine = facts.databaseEngines[database];
  const known = (name: string | undefined) => facts.clusters.some((c) => c.name === name);
  if (engine === 'Replicated') {
    return known(database) ? { name: database, databaseEngine: 'Replicated', engines } : undefined;
  }
  if (engine !== 'Atomic') return undefined;
  const name = request.cluster ?? (local.length === 1 ? local[0] : undefined);
  return name !== undefined && known(name) ? { name, databaseEngine: 'Atomic', engines } : undefined;
}

/**
 * Reads what the tool needs to know of the server before writing to it (see {@link ServerProfile}) for the job's
 * `tables` (source, target, view targets, ledger: those that do not exist yet are left out of `tableEngines`).
 * Read-only: a few small reads of system tables, `hostName()` repeated over HTTP to see a load-balanced URL.
 */
export async function detectServerProfile(
  ch: ClickHouse,
  tables: TableRef[],
  request: ProfileRequest = {},
): Promise<ServerProfile> {
  const [{ version }] = await ch.rows(selectVersion());
  const hosts = new Set<string>();
  for (let i = 0; i < (ch.embedded ? 1 : HOST_PROBES); i++) {
    for (const { host } of await ch.rows(selectHostName())) hosts.add(host);
  }
  const databases = unique(tables.map((t) => t.database));
  const names = unique(tables.map((t) => t.name));
  const wanted = new Set(tables.map((t) => `${t.database}.${t.name}`));
  const databaseEngines = Object.fromEntries(
    (await ch.rows(selectDatabaseEngines(databases))).map((d) => [d.name, d.engine]),
  );
  const tableRows = (await ch.rows(selectTableEngines(databases, names))).filter((t) =>
    wanted.has(`${t.database}.${t.name}`),
  );
  const tableEngines = Object.fromEntries(tableRows.map((t) => [`${t.database}.${t.name}`, t.engine]));
  const clusterRows = await ch.rows(selectClusters());
  const clusters = clusterRows.map((c) => ({
    name: c.name,
    shards: Number(c.shards),
    replicas: Number(c.replicas),
  }));
  const local = clusterRows.filter((c) => c.local === '1').map((c) => c.name);
  const patchPartitions: Record<string, string[]> = {};
  if (versionAtLeast({ version }, ...LIGHTWEIGHT_UPDATES)) {
    for (const p of await ch.rows(selectPatchPartitions(databases, names))) {
      const table = `${p.database}.${p.table}`;
      if (wanted.has(table)) (patchPartitions[table] ??= []).push(p.partition_id);
    }
  }
  const cloudMode = (await ch.rows(selectCloudMode())).some((s) => s.value === '1' || s.value === 'true');
  const facts = { version, hosts: [...hosts].sort(), databaseEngines, tableEngines, clusters, patchPartitions };
  const topology = topologyOf({ ...facts, embedded: ch.embedded, cloudMode });
  if (topology === 'sharded-cluster') {
    const sharding = await shardingOf(ch, tableRows, databaseEngines, request.shardTables ?? []);
    return { topology, ...facts, ...(sharding ? { sharding } : {}) };
  }
  if (topology !== 'replicated-cluster') return { topology, ...facts };
  const engines = Object.fromEntries(
    tableRows.filter((t) => isReplicatedEngine(t.engine)).map((t) => [`${t.database}.${t.name}`, t.engine_full]),
  );
  const cluster = clusterOf(facts, local, engines, request);
  return { topology, ...facts, ...(cluster ? { cluster } : {}) };
}

/**
 * On a sharded cluster: the job's `Distributed` tables (cluster, local table, sharding key), the shards of their
 * cluster with each replica's host, and the `engine_full` of the local tables behind them. None when the job has
 * no readable `Distributed` table (the plan then refuses, naming it).
 */
async function shardingOf(
  ch: ClickHouse,
  tableRows: { database: string; name: string; engine: string; engine_full: string }[],
  databaseEngines: Record<string, string>,
  shardTables: TableRef[],
): Promise<ShardedTarget | undefined> {
  const distributed: Record<string, DistributedTable> = {};
  for (const t of tableRows) {
    const table = t.engine === 'Distributed' ? distributedTableOf(t.engine_full) : undefined;
    if (table) distributed[`${t.database}.${t.name}`] = table;
  }
  const tables = Object.values(distributed);
  if (tables.length === 0) return undefined;
  const name = tables[tables.length - 1].cluster;
  const shards = new Map<number, string[]>();
  const weights = new Map<number, number>();
  for (const { shard, host, weight } of await ch.rows(selectClusterHosts(name))) {
    const list = shards.get(Number(shard)) ?? [];
    shards.set(Number(shard), [...list, host]);
    if (weight !== undefined) weights.set(Number(shard), Number(weight));
  }
  const locals = tables.map((t) => t.local);
  const localRows = (
    await ch.rows(selectTableEngines(unique(locals.map((t) => t.database)), unique(locals.map((t) => t.name))))
  ).filter((r) => locals.some((l) => l.database === r.database && l.name === r.name));
  const localDatabase = tables[tables.length - 1].local.database;
  const localDatabaseEngine =
    databaseEngines[localDatabase] ?? (await ch.rows(selectDatabaseEngines([localDatabase])))[0]?.engine ?? 'Atomic';
  return {
    name,
    databaseEngine: localDatabaseEngine === 'Replicated' ? 'Replicated' : 'Atomic',
    shards: [...shards.entries()].map(([num, hosts]) => {
      const weight = weights.get(num);
      return { num, hosts, ...(weight === undefined ? {} : { weight }) };
    }),
    distributed,
    // The local tables, and the further tables the job writes on every shard (an import's view targets).
    engines: Object.fromEntries(
      [
        ...tableRows.filter((r) => shardTables.some((t) => t.database === r.database && t.name === r.name)),
        ...localRows,
      ].map((r) => [`${r.database}.${r.name}`, r.engine_full]),
    ),
  };
}
