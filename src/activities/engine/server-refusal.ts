import { isLocalMergeTree, isReplicatedEngine } from '../../clickhouse/engine-family';
import type { Safety } from '../../shared/job-spec';
import { versionAtLeast, type ServerProfile } from '../../shared/server-profile';
import { qualifiedName, type TableRef } from '../../shared/table-ref';
import { JobSpecError } from './errors';

/** Where a refused topology is explained, and what to do about it. */
const CLUSTER_WAY_FORWARD =
  'view snapshots and view restates on a sharded cluster are not supported yet (aggregate backfills, daily runs, ' +
  'imports and timed view jobs run per shard); run the job against one shard of replicas, a single server or ' +
  'ClickHouse Cloud, see docs/clusters.md';

/**
 * Why a sharded cluster is refused for everything but an aggregate backfill, an import (from a table or files) and a timed
 * view job, which run per (partition, shard): the other jobs would need the same per-shard tasks, and swapping or
 * moving through one node changes that node's shard alone.
 */
const SHARDED_NOT_BUILT =
  'a job there must run per shard: aggregate backfills do (each shard swaps its own part of a partition, once the ' +
  "plan has checked that the sharding key follows the job's keys, with status and retry per (partition, shard)), " +
  "and so do imports from a table or files (each shard's duplicates filled with the rows that shard owns by the " +
  "Distributed table's sharding key), and so do timed view jobs (each shard's live view on its local source, its " +
  "history filled from that shard's local rows); this job kind does not yet";

/** What detection found that makes a cluster, in words: the first table or database that decided it. */
function clusterEvidence(profile: ServerProfile): string {
  const hosts = `behind ${profile.hosts.length} host${profile.hosts.length === 1 ? '' : 's'}`;
  const databaseOf = (table: string) => table.split('.')[0];
  const described = (table: string, engine: string) => {
    const db = databaseOf(table);
    return `${table} is ${engine} in ${profile.databaseEngines[db] ?? 'unknown'} database ${db} ${hosts}`;
  };
  const tables = Object.entries(profile.tableEngines);
  if (profile.topology === 'sharded-cluster') {
    const distributed = tables.find(([, engine]) => engine === 'Distributed');
    if (distributed) return `${distributed[0]} is Distributed (a sharded table)`;
    const sharded = Object.entries(profile.databaseEngines)
      .filter(([, engine]) => engine === 'Replicated')
      .map(([db]) => ({ db, cluster: profile.clusters.find((c) => c.name === db) }))
      .find(({ cluster }) => (cluster?.shards ?? 1) > 1);
    if (sharded) return `database ${sharded.db} is Replicated over ${sharded.cluster?.shards} shards`;
  }
  const replicated = tables.find(([, engine]) => isReplicatedEngine(engine));
  if (replicated) return described(...replicated);
  const database = Object.entries(profile.databaseEngines).find(([, engine]) => engine === 'Replicated');
  return database ? `database ${database[0]} is Replicated ${hosts}` : `the server is a ${profile.topology}`;
}

/**
 * Refuses, before any DDL, a server the tool cannot write correctly (non-retryable, naming what was found and the
 * way forward): a self-managed replicated or sharded cluster (writing one node would silently miss the others),
 * and a single server older than 26.6 with a plain MergeTree-family target whose partitions a swap replaces
 * (`swap: 'replace'`; appends by `MOVE PARTITION` replace nothing), whose replaced parts can come back after a
 * restart (#107605), unless the job accepts that with `safety.acceptPre266ReplacedParts`. A sharded cluster is let
 * through only for a caller that runs per shard (`perShard`: an aggregate backfill, an import from a table, a timed
 * view job) and then
 * checks the job there.
 */
export function refuseUnsupportedServer(
  profile: ServerProfile,
  target: TableRef,
  safety: Safety,
  swap: 'replace' | 'append',
  options: { perShard?: boolean } = {},
): void {
  // An aggregate backfill or a table import runs per shard; its own check (checkShardedJob, checkShardedImport)
  // refuses what it cannot run there.
  if (profile.topology === 'sharded-cluster' && options.perShard && profile.sharding) return;
  if (profile.topology === 'replicated-cluster') {
    refuseUnknownCluster(profile, target, swap);
    return;
  }
  if (profile.topology === 'sharded-cluster') {
    throw new JobSpecError(
      'target.table',
      `the server is a sharded cluster: ${clusterEvidence(profile)}; ${SHARDED_NOT_BUILT}; ${CLUSTER_WAY_FORWARD}`,
    );
  }
  const engine = profile.tableEngines[qualifiedName(target)] ?? 'MergeTree';
  const plainMergeTree = isLocalMergeTree(engine);
  if (
    profile.topology === 'single-server' &&
    swap === 'replace' &&
    plainMergeTree &&
    !versionAtLeast(profile, 26, 6) &&
    safety.acceptPre266ReplacedParts !== true
  ) {
    throw new JobSpecError(
      'safety.acceptPre266ReplacedParts',
      `ClickHouse ${profile.version} is older than 26.6: on ${qualifiedName(target)} (${engine}) parts a swap ` +
        'replaced can come back after a server restart (ClickHouse #107605); upgrade to 26.6 or later, or set ' +
        'safety.acceptPre266ReplacedParts: true to run anyway (see docs/servers.md)',
    );
  }
}

/**
 * A replicated cluster a job can run on: the plan knows the cluster its DDL, syncs and per-replica reads address,
 * and, in an `Atomic` database, the live target's replicated engine (its shadows get the same engine with their
 * own Keeper path). A job that appends (a view's or an import's moves) needs its target to exist as a replicated
 * table in a `Replicated` database too: the tool creates no target on a cluster. Refused otherwise, naming what
 * is missing.
 */
function refuseUnknownCluster(profile: ServerProfile, target: TableRef, swap: 'replace' | 'append'): void {
  const cluster = profile.cluster;
  if (!cluster) {
    const db = target.database;
    throw new JobSpecError(
      'cluster',
      `the server is a replicated cluster (${clusterEvidence(profile)}) and it is unclear which cluster database ` +
        `${db} lives on: name it with \`cluster: <name>\` in the job (one of ${profile.clusters
          .map((c) => c.name)
          .join(', ')}), see docs/clusters.md`,
    );
  }
  const mustExist = cluster.databaseEngine === 'Atomic' || swap === 'append';
  if (mustExist && !isReplicatedEngine(profile.tableEngines[qualifiedName(target)] ?? '')) {
    throw new JobSpecError(
      'target.table',
      `${qualifiedName(target)} must exist as a Replicated…MergeTree table on cluster ${cluster.name} before the ` +
        'job runs (the tool creates no target on a cluster), see docs/clusters.md',
    );
  }
}
