import type { TableRef } from './table-ref';

/**
 * The topologies the tool tells apart. It writes on `embedded` (chDB in the worker), `single-server` and `cloud`
 * (ClickHouse Cloud: SharedMergeTree, replicas behind one load-balanced host) and `replicated-cluster` (one shard,
 * N replicas, self-managed: see docs/clusters.md); `sharded-cluster` (several shards behind
 * `Distributed` tables) is detected, its shards and sharding keys recorded (`sharding`), and refused before any DDL
 * unless every sharding key follows the job's keys (see docs/clusters.md).
 */
export type Topology = 'embedded' | 'single-server' | 'cloud' | 'replicated-cluster' | 'sharded-cluster';

/** A cluster of `system.clusters`: how many shards and the most replicas any shard has. */
export interface ClusterShape {
  name: string;
  shards: number;
  replicas: number;
}

/**
 * What the tool knows about the server a job runs on, decided once by the plan (which records it in history) and
 * passed to every statement builder through the partition task, so the SQL for each topology is decided in one
 * place and testable without that server (recorded profiles in test/fixtures/server-profiles/).
 */
export interface ServerProfile {
  topology: Topology;
  /** `version()`, e.g. `26.7.1.1`. */
  version: string;
  /** The distinct `hostName()` answers over several requests: more than one means the URL fans out to replicas. */
  hosts: string[];
  /** The engine of each database the job reads or writes, by name. */
  databaseEngines: Record<string, string>;
  /** The engine of each table the job reads or writes that exists, by `database.table`. */
  tableEngines: Record<string, string>;
  /** The clusters the server knows (`system.clusters`). */
  clusters: ClusterShape[];
  /** Partitions with pending lightweight-update patch parts, by `database.table`. */
  patchPartitions: Record<string, string[]>;
  /** On a `replicated-cluster`: the cluster the job's DDL, syncs and per-replica reads address. */
  cluster?: ReplicatedTarget;
  /** On a `sharded-cluster`: its shards and the job's `Distributed` tables (their local tables, sharding keys). */
  sharding?: ShardedTarget;
  /**
   * On a sharded cluster's partition task only (set by the backfill per task, never by the plan): the one shard
   * the task's statements reach, through a client to that shard (src/activities/engine/shard-client.ts).
   */
  shard?: ShardHosts;
}

/** One shard of a cluster: its `shard_num` and the `host_name` of each of its replicas (`system.clusters`). */
export interface ShardHosts {
  num: number;
  hosts: string[];
  /**
   * `system.clusters.shard_weight`: how many of the remainders of a `Distributed` insert's sharding key the shard
   * takes (src/sql/engine/shard-rows.ts). Absent in profiles recorded before weights were read: 1.
   */
  weight?: number;
}

/** A `Distributed` table of the job as `engine_full` shows it: the cluster, the local table, the sharding key. */
export interface DistributedTable {
  cluster: string;
  local: TableRef;
  /** The sharding expression as the server shows it; absent: none (one shard only, or inserts refused). */
  shardingKey?: string;
}

/**
 * A sharded cluster as the plan found it: the cluster the job's `Distributed` tables spread over, its shards with
 * their replicas' hosts, each `Distributed` table of the job (by `database.table`) and the `engine_full` of the
 * local tables behind them (by `database.table`).
 */
export interface ShardedTarget {
  name: string;
  /** The local target's database engine: `Atomic` (DDL `ON CLUSTER`) or `Replicated` (the database replicates it). */
  databaseEngine: 'Atomic' | 'Replicated';
  shards: ShardHosts[];
  distributed: Record<string, DistributedTable>;
  engines: Record<string, string>;
}

/**
 * The cluster a replicated target lives on, as the plan decided it: a `Replicated` database's own cluster (named
 * after the database: the database replicates DDL, so none carries `ON CLUSTER`), or, in an `Atomic` database,
 * the job's `cluster:` or the only cluster listing the server (DDL then carries `ON CLUSTER <name>`).
 */
export interface ReplicatedTarget {
  name: string;
  /** The target database's engine: `Atomic` (DDL `ON CLUSTER`) or `Replicated` (the database replicates it). */
  databaseEngine: 'Atomic' | 'Replicated';
  /** `system.tables.engine_full` of the job's `Replicated…MergeTree` tables, by `database.table`. */
  engines: Record<string, string>;
}

/** `26.7.1.1` → `[26, 7]`; an unreadable version reads as `[0, 0]` (the oldest: every gate applies). */
export function versionOf(profile: Pick<ServerProfile, 'version'>): [number, number] {
  const m = /^(\d+)\.(\d+)/.exec(profile.version);
  return m ? [Number(m[1]), Number(m[2])] : [0, 0];
}

/** Whether the server's version is `major.minor` or later. */
export function versionAtLeast(profile: Pick<ServerProfile, 'version'>, major: number, minor: number): boolean {
  const [a, b] = versionOf(profile);
  return a > major || (a === major && b >= minor);
}
