import type { ClickHouse } from '../../clickhouse/clickhouse';
import { isReplicatedEngine, isSharedEngine } from '../../clickhouse/engine-family';
import { versionAtLeast, type ServerProfile, type Topology } from '../../shared/server-profile';
import type { TableRef } from '../../shared/table-ref';
import {
  selectCloudMode,
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

/**
 * Reads what the tool needs to know of the server before writing to it (see {@link ServerProfile}) for the job's
 * `tables` (source, target, view targets, ledger: those that do not exist yet are left out of `tableEngines`).
 * Read-only: a few small reads of system tables, `hostName()` repeated over HTTP to see a load-balanced URL.
 */
export async function detectServerProfile(ch: ClickHouse, tables: TableRef[]): Promise<ServerProfile> {
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
  const tableEngines = Object.fromEntries(
    (await ch.rows(selectTableEngines(databases, names)))
      .map((t) => [`${t.database}.${t.name}`, t.engine] as const)
      .filter(([name]) => wanted.has(name)),
  );
  const clusters = (await ch.rows(selectClusters())).map((c) => ({
    name: c.name,
    shards: Number(c.shards),
    replicas: Number(c.replicas),
  }));
  const patchPartitions: Record<string, string[]> = {};
  if (versionAtLeast({ version }, ...LIGHTWEIGHT_UPDATES)) {
    for (const p of await ch.rows(selectPatchPartitions(databases, names))) {
      const table = `${p.database}.${p.table}`;
      if (wanted.has(table)) (patchPartitions[table] ??= []).push(p.partition_id);
    }
  }
  const cloudMode = (await ch.rows(selectCloudMode())).some((s) => s.value === '1' || s.value === 'true');
  const facts = { version, hosts: [...hosts].sort(), databaseEngines, tableEngines, clusters, patchPartitions };
  return { topology: topologyOf({ ...facts, embedded: ch.embedded, cloudMode }), ...facts };
}
