import type { Statement } from '../../clickhouse/statement';
import {
  versionAtLeast,
  type ServerProfile,
  type ReplicatedTarget,
  type ShardHosts,
  type Topology,
} from '../../shared/server-profile';
import { qualifiedName, type TableRef } from '../../shared/table-ref';
import { quotedTable, tableParam } from './table-param';
import { createTableLike, createTableLikeIfNotExists, dropTableIfExists } from './table-ddl';
import { quoteAllowListedIdentifier } from './quote-identifier';
import { clusterWideReplication, ownKeeperPath, replicatedEngineWithOwnPath } from './replicated-engine';
import { createLedgerTable } from './ledger';

/** The per-node system tables the tool reads where every replica's rows count. */
export type NodeSystemTable = 'processes' | 'merges' | 'metrics' | 'mutations' | 'parts' | 'query_log';

/**
 * The SQL decisions for one server, taken from its recorded profile in one place: every statement builder a step
 * runs asks the dialect instead of looking at the server itself, so the statements for a topology are decided
 * once and tested without that server (test/unit/server-topologies.test.ts).
 */
export interface ServerDialect {
  readonly topology: Topology;
  /**
   * A read that must see an earlier statement's write (ours, or an earlier run's through another request), as sent:
   * on Cloud with `SETTINGS select_sequential_consistency = 1` written into its text, so the replica that serves it
   * first catches up with every part committed to shared storage, whichever replica the load balancer picks for
   * that request; unchanged on one server (or embedded), which serves every request itself.
   */
  consistentRead<T>(statement: Statement<T>): Statement<T>;
  /**
   * Where a partition's row count that must see earlier writes is read: `parts` from `system.parts` (one server:
   * its parts are the table's); `table` from the table itself (`count()` by `_partition_id`) through
   * {@link ServerDialect.consistentRead}, on Cloud: `system.parts` is per-replica metadata, stale on a lagging
   * replica, and `select_sequential_consistency` does not apply to system tables.
   */
  readonly rowCountsFrom: 'parts' | 'table';
  /**
   * Before a partition ALTER that reads `table`'s parts on the replica that executes it (`REPLACE PARTITION … FROM`,
   * `ATTACH PARTITION … FROM`, `MOVE PARTITION … TO TABLE`), which cannot carry `select_sequential_consistency`:
   * on Cloud `SYSTEM SYNC REPLICA … LIGHTWEIGHT` of it, as a best effort only (the ALTER, a separate HTTP request,
   * may reach another replica); none on one server (or embedded). What makes the outcome right is the check after
   * the ALTER, read with {@link ServerDialect.consistentRead}: a replica that copied or moved fewer parts shows as
   * a row-count difference, and the retried step copies, replaces or moves again.
   */
  syncBeforeAlter(table: TableRef): Statement[];
  /**
   * A partition ALTER (REPLACE/ATTACH/MOVE/DROP PARTITION) as sent: where there are replicas, with
   * `SETTINGS alter_sync = 3` (wait for every active replica); unchanged otherwise.
   */
  partitionAlter(statement: Statement): Statement;
  /** `system.<name>`, or on Cloud `clusterAllReplicas('default', system.<name>)` so every replica's rows count. */
  systemTable(name: NodeSystemTable): string;
  /** ` ON CLUSTER default` where a KILL must reach every replica (Cloud); empty otherwise. */
  readonly killScope: string;
  /**
   * Before a partition of `table` is copied, replaced, moved or dropped: materialises its pending lightweight-update
   * patch parts (`APPLY PATCHES IN PARTITION ID`), which partition operations would otherwise drop (before
   * mid-2026) or refuse (since). Only where the server has lightweight updates and the profile found patches of
   * that table in that partition.
   */
  applyPatches(table: TableRef, partitionId: string): Statement[];
  /**
   * A shadow, backup or duplicate created empty like `like` (`CREATE TABLE t AS like`, never `AS SELECT`), in
   * `like`'s database. On a replicated cluster with an `Atomic` database: `ON CLUSTER <c>` and an explicit
   * `Replicated…MergeTree` engine whose Keeper path is derived from `table`'s own name (`{shard}`/`{replica}`
   * macros), never a second replica of `like`'s path; in a `Replicated` database as is (the database replicates
   * the DDL and gives the new table its own `{uuid}` path; `ON CLUSTER` is refused there).
   */
  createLike(table: TableRef, like: TableRef, options?: { ifNotExists?: boolean }): Statement;
  /**
   * The job's ledger, created if missing (`CREATE TABLE IF NOT EXISTS`), run through `runDdl`. On a replicated
   * cluster a `ReplicatedReplacingMergeTree` on every replica, so a swap recorded through one node is read through
   * any other: in an `Atomic` database `ON CLUSTER <c>` with its own Keeper path ({@link ownKeeperPath}); in a
   * `Replicated` database without arguments (the database gives it its own `{uuid}` path). On a sharded cluster
   * one replica group over every node of every shard ({@link clusterWideReplication}: no `{shard}` in the path,
   * replica `{shard}-{replica}`), with these arguments in a `Replicated` database too, since the worker's own client
   * may reach any shard. Elsewhere a plain `ReplacingMergeTree`.
   */
  createLedger(ledger: TableRef): Statement;
  /** `DROP TABLE IF EXISTS … SYNC`, with `ON CLUSTER <c>` on a replicated cluster with an `Atomic` database. */
  dropTable(table: TableRef): Statement;
  /**
   * Any other DDL of the tool's own objects (a view's or a Null-engine fill's `CREATE`/`DROP` of a table or a
   * materialized view) as sent: with `ON CLUSTER <c>` after the object's name on a replicated cluster with an
   * `Atomic` database, so it exists on every replica; unchanged elsewhere (a `Replicated` database replicates it).
   * Run through `runDdl`.
   */
  ddl(statement: Statement): Statement;
  /**
   * Whether `CREATE TABLE … AS SELECT` (even `EMPTY AS SELECT`) may be sent: not on a replicated cluster, where a
   * CTAS `ON CLUSTER` is a known failure (SQLMesh #6008); tables are then created `AS` another table, then filled.
   */
  readonly createAsSelect: boolean;
  /**
   * Whether a job may create its missing target (a view's): not on a replicated cluster, where the target must
   * already exist as a `Replicated…MergeTree` table on every replica (the plan refuses it otherwise).
   */
  readonly createsTarget: boolean;
  /**
   * Before a read that must see rows written through another node (the ledger's, by an earlier run's swap): on a
   * replicated cluster `SYSTEM SYNC REPLICA ON CLUSTER <c> t LIGHTWEIGHT` (self-managed sequential consistency
   * covers quorum inserts only), so whichever replica serves the read holds every part committed before; none
   * elsewhere (Cloud reads with {@link ServerDialect.consistentRead}). Run through `runStatement`.
   */
  syncBeforeRead(table: TableRef): Statement[];
  /**
   * A bookkeeping table of the tool's own (`CREATE TABLE IF NOT EXISTS t (…) ENGINE = MergeTree …`: the files
   * ledger, the per-file counts, the staged file lists) as sent: on a replicated cluster on every replica as a
   * `ReplicatedMergeTree`, so what one node wrote is read through any other (in an `Atomic` database
   * `ON CLUSTER <c>` with its own Keeper path, {@link ownKeeperPath}; in a `Replicated` database without
   * arguments; on a sharded cluster one replica group over every shard, as {@link ServerDialect.createLedger});
   * unchanged elsewhere. Run through `runDdl`.
   */
  bookkeepingTable(statement: Statement, table: TableRef): Statement;
  /**
   * Where DDL reaches several hosts (a replicated cluster): the settings it runs with, so it answers a status per
   * host and a host that has not answered in time reads as "not yet" (`null_status_on_timeout`), not as a
   * failure; DDL then runs through `runDdl` (src/activities/engine/cluster-ddl.ts). Absent elsewhere.
   */
  readonly ddlSettings?: Record<string, string | number>;
  /**
   * After a fill of `table` (the shadow, a daily day's copy, a restore): on a replicated cluster
   * `SYSTEM SYNC REPLICA ON CLUSTER <c> t LIGHTWEIGHT`, so every replica that may run the swap holds the fill's
   * parts; none elsewhere.
   */
  syncAfterFill(table: TableRef): Statement[];
  /**
   * On a replicated cluster: the partition's rows on every replica (`clusterAllReplicas`), one row per host, for
   * the check after a swap; absent elsewhere (one count is every replica's).
   */
  replicaRows?(table: TableRef, partitionId: string): Statement<{ host: string; rows: string }>;
  /** With `replicaRows`: how many replicas must answer (a replica holding nothing of the table answers no row). */
  readonly replicaCount?: number;
  /**
   * On a sharded cluster's task: the swap empties the shard's partition, when the shadow holds none, by
   * `REPLACE PARTITION … FROM` the empty shadow with `allow_replace_partition_from_empty_source = 1`, never a
   * `DROP PARTITION`; absent elsewhere (a `DROP PARTITION`).
   */
  readonly emptiesByReplace?: true;
  /**
   * On a sharded cluster: `system.parts` and `system.mutations` are each node's own (the local tables' parts), so
   * the load check reads them through {@link ServerDialect.systemTable} too; absent elsewhere (one server, or Cloud's
   * shared storage, the same on every replica).
   */
  readonly perNodeParts?: true;
  /**
   * On a self-managed cluster (replicated or sharded): the load guard reads its signals per host
   * (`selectClusterLoadPerHost`) and pauses on the worst host, naming it, rather than summing every node's
   * readings into one; absent elsewhere (one server, or Cloud's one reading over its replicas).
   */
  readonly loadPerHost?: true;
}

/** `alter_sync = 3`: the ALTER returns once every active replica has done it (Cloud's default 0 waits for none). */
const ALTER_SYNC_ACTIVE = 3;
/** The cluster every ClickHouse Cloud service has, over its replicas. */
const CLOUD_CLUSTER = 'default';
/** `select_sequential_consistency = 1`: the read first syncs the replica with shared storage (ClickHouse Cloud). */
const SEQUENTIAL_CONSISTENCY = 'SETTINGS select_sequential_consistency = 1';
/** Lightweight updates (patch parts) exist from 25.7 on. */
const PATCH_PARTS_SINCE: [number, number] = [25, 7];

/** `SYSTEM SYNC REPLICA db.t LIGHTWEIGHT`: waits until this replica has the parts the others already committed. */
export function syncReplicaLightweight(table: TableRef): Statement {
  return { query: `SYSTEM SYNC REPLICA ${quotedTable(table)} LIGHTWEIGHT`, params: {} };
}

/**
 * `ALTER TABLE t APPLY PATCHES IN PARTITION ID …`: materialises the partition's lightweight updates, waiting for
 * the mutation to finish (`mutations_sync`: 3, every active replica, where there are replicas; 2 otherwise), so the
 * partition operation that follows finds no patch left.
 */
export function applyPatchesInPartition(table: TableRef, partitionId: string, replicas: boolean): Statement {
  const t = tableParam('table', table);
  return {
    query:
      `ALTER TABLE ${t.sql} APPLY PATCHES IN PARTITION ID {partition_id:String} ` +
      `SETTINGS mutations_sync = ${replicas ? 3 : 2}`,
    params: { ...t.params, partition_id: partitionId },
  };
}

/** Whether the server runs the statements of several replicas: Cloud or a self-managed replicated cluster. */
const replicated = (server: ServerProfile | undefined): boolean =>
  server?.topology === 'cloud' ||
  server?.topology === 'replicated-cluster' ||
  (server?.topology === 'sharded-cluster' && server.sharding !== undefined);

/**
 * DDL on a cluster answers one status per host; a host that has not finished within the timeout answers NULL
 * (`null_status_on_timeout`), which `runDdl` reads as "look again" (a retried activity), not as a failure.
 */
const CLUSTER_DDL_SETTINGS = {
  distributed_ddl_output_mode: 'null_status_on_timeout',
  distributed_ddl_task_timeout: 300,
};

/**
 * The dialect's choices on a self-managed replicated cluster (one shard, N replicas): the cluster, its `ON CLUSTER`
 * clause (Atomic database only) and how a table is created on it.
 */
function clusterChoices(cluster: Pick<ReplicatedTarget, 'name' | 'databaseEngine' | 'engines'>) {
  const name = quoteAllowListedIdentifier(cluster.name);
  // Checked plain by the quoting helper just above: safe inside a string literal too.
  const plainName = cluster.name;
  const onCluster = cluster.databaseEngine === 'Atomic' ? ` ON CLUSTER ${name}` : '';
  const withOnCluster = (statement: Statement): Statement => ({
    ...statement,
    query: statement.query.replace(
      /^(CREATE (?:TABLE|MATERIALIZED VIEW) (?:IF NOT EXISTS )?|DROP (?:TABLE|VIEW) IF EXISTS )(\S+)/,
      `$1$2${onCluster}`,
    ),
  });
  return {
    plainName,
    quoted: name,
    createLike(table: TableRef, like: TableRef, options: { ifNotExists?: boolean } = {}): Statement {
      const plain = options.ifNotExists ? createTableLikeIfNotExists(table, like) : createTableLike(table, like);
      if (cluster.databaseEngine === 'Replicated') return plain;
      const engine = cluster.engines[qualifiedName(like)];
      if (engine === undefined)
        throw new Error(`no engine recorded for ${qualifiedName(like)} on cluster ${cluster.name}`);
      const created = withOnCluster(plain);
      return { ...created, query: `${created.query} ENGINE = ${replicatedEngineWithOwnPath(engine, table)}` };
    },
    dropTable: (table: TableRef) => withOnCluster(dropTableIfExists(table)),
    ddl: withOnCluster,
    createLedger(ledger: TableRef): Statement {
      if (cluster.databaseEngine === 'Replicated') return createLedgerTable(ledger, 'ReplicatedReplacingMergeTree');
      return withOnCluster(
        createLedgerTable(ledger, `ReplicatedReplacingMergeTree('${ownKeeperPath(ledger)}', '{replica}')`),
      );
    },
    bookkeepingTable(statement: Statement, table: TableRef): Statement {
      const engine =
        cluster.databaseEngine === 'Replicated'
          ? 'ReplicatedMergeTree'
          : `ReplicatedMergeTree('${ownKeeperPath(table)}', '{replica}')`;
      return withOnCluster({
        ...statement,
        query: statement.query.replace(/ ENGINE = MergeTree /, ` ENGINE = ${engine} `),
      });
    },
    sync: (table: TableRef): Statement => ({
      query: `SYSTEM SYNC REPLICA ON CLUSTER ${name} ${quotedTable(table)} LIGHTWEIGHT`,
      params: {},
    }),
    replicaRows(table: TableRef, partitionId: string): Statement<{ host: string; rows: string }> {
      return {
        query:
          `SELECT hostName() AS host, toString(count()) AS rows FROM clusterAllReplicas('${plainName}', ` +
          `${quotedTable(table)}) WHERE _partition_id = {partition_id:String} GROUP BY host ORDER BY host`,
        params: { partition_id: partitionId },
      };
    },
  };
}

/**
 * What every self-managed cluster's dialect shares (one shard of replicas, or shards): plain reads (every replica is
 * synced before a read that must see the latest writes), system tables and KILL over every replica, tables created
 * empty with their own Keeper path and DDL `ON CLUSTER` where the database needs it, never `CREATE … AS SELECT`, no
 * target created by the tool, and the ledger synced on every replica before it is read.
 */
function selfManagedChoices(c: ReturnType<typeof clusterChoices>) {
  return {
    consistentRead: (statement: Statement) => statement,
    systemTable: (name: NodeSystemTable) => `clusterAllReplicas('${c.plainName}', system.${name})`,
    killScope: ` ON CLUSTER ${c.quoted}`,
    createLike: c.createLike,
    dropTable: c.dropTable,
    ddl: c.ddl,
    createAsSelect: false,
    createsTarget: false,
    syncBeforeRead: (table: TableRef) => [c.sync(table)],
  };
}

/**
 * The dialect of one shard's task on a sharded cluster (`server.shard`): DDL (shadows, backups, the ledger) as on
 * a replicated cluster (`ON CLUSTER <c>` in an Atomic database, none in a Replicated one; a status per host), so
 * every shard holds the empty shadow and only the task's shard fills it; the fill, the syncs and the partition
 * ALTERs through the shard's own client, each ALTER after a sync of the table it reads on the replica that runs
 * it (plain `SYSTEM SYNC REPLICA … LIGHTWEIGHT`, on that shard only); the check after the swap reads every replica
 * of that shard (`clusterAllReplicas` narrowed to the shard's hosts); load checks and KILL reach every replica of
 * every shard. Without a shard (the plan's own reads, the load guard): the same reads over the whole cluster, row
 * counts from the (Distributed) tables themselves, since their `system.parts` is empty.
 */
function shardDialect(
  server: ServerProfile,
  shard: ShardHosts | undefined,
  common: ReturnType<typeof commonChoices>,
): ServerDialect {
  const sharding = server.sharding;
  if (!sharding)
    throw new Error("a sharded task without the plan's sharding: the plan refuses it before any statement");
  const c = clusterChoices(sharding);
  const sync = (table: TableRef) => [syncReplicaLightweight(table)];
  // The ledger and the other bookkeeping tables are read and written through the worker's own client, which may
  // reach any node of any shard: one replica group over the whole cluster (no `{shard}` in its path), created on
  // every node (`ON CLUSTER` in an Atomic database; a Replicated database's DDL reaches every node itself).
  const clusterWide = (statement: Statement, table: TableRef, engine: string): Statement =>
    c.ddl({
      ...statement,
      query: statement.query.replace(
        new RegExp(` ENGINE = ${engine} `),
        ` ENGINE = ${engine}(${clusterWideReplication(table, sharding.name)}) `,
      ),
    });
  return {
    ...common,
    topology: 'sharded-cluster',
    ...selfManagedChoices(c),
    syncBeforeAlter: sync,
    syncAfterFill: sync,
    bookkeepingTable: (statement, table) =>
      clusterWide(
        { ...statement, query: statement.query.replace(/ ENGINE = MergeTree /, ' ENGINE = ReplicatedMergeTree ') },
        table,
        'ReplicatedMergeTree',
      ),
    createLedger: (ledger) =>
      clusterWide(createLedgerTable(ledger, 'ReplicatedReplacingMergeTree'), ledger, 'ReplicatedReplacingMergeTree'),
    // A Replicated database gives a table without arguments its `{shard}` path: the cluster-wide ones need
    // explicit arguments, which it takes only with this setting (2 would silently replace them with its default).
    ddlSettings:
      sharding.databaseEngine === 'Replicated'
        ? { ...CLUSTER_DDL_SETTINGS, database_replicated_allow_replicated_engine_arguments: 1 }
        : CLUSTER_DDL_SETTINGS,
    perNodeParts: true,
    loadPerHost: true,
    ...(shard
      ? {
          replicaRows: (table: TableRef, partitionId: string): Statement<{ host: string; rows: string }> => ({
            query:
              `SELECT hostName() AS host, toString(count()) AS rows FROM clusterAllReplicas('${c.plainName}', ` +
              `${quotedTable(table)}) WHERE _partition_id = {partition_id:String} ` +
              'AND hostName() IN {hosts:Array(String)} GROUP BY host ORDER BY host',
            params: { partition_id: partitionId, hosts: shard.hosts },
          }),
          replicaCount: shard.hosts.length,
          emptiesByReplace: true as const,
        }
      : {}),
  };
}

/** What every dialect shares, from the profile: its topology, row counts, partition ALTERs and patches. */
function commonChoices(server: ServerProfile | undefined) {
  const many = replicated(server);
  const patches = server && versionAtLeast(server, ...PATCH_PARTS_SINCE) ? server.patchPartitions : {};
  return {
    topology: server?.topology ?? 'embedded',
    rowCountsFrom: many ? 'table' : 'parts',
    partitionAlter: (statement: Statement) =>
      many ? { ...statement, query: `${statement.query} SETTINGS alter_sync = ${ALTER_SYNC_ACTIVE}` } : statement,
    applyPatches: (table: TableRef, partitionId: string) =>
      (patches[qualifiedName(table)] ?? []).includes(partitionId)
        ? [applyPatchesInPartition(table, partitionId, many)]
        : [],
  } as const;
}

/**
 * The dialect of `server`. Absent (the embedded engine, or a task recorded before plans kept a profile): exactly
 * the statements of one server, as before profiles existed.
 */
export function dialectOf(server?: ServerProfile): ServerDialect {
  const many = replicated(server);
  const common = commonChoices(server);
  if (server?.topology === 'sharded-cluster' && server.sharding) return shardDialect(server, server.shard, common);
  if (server?.topology === 'replicated-cluster') {
    // Self-managed: sequential consistency covers only quorum inserts. Every replica is synced after a fill and
    // before an ALTER reads a table's parts, so a plain read on any replica sees them; the swap's check then
    // reads every replica.
    if (!server.cluster)
      throw new Error('a replicated cluster without a cluster: the plan refuses it before any statement');
    const c = clusterChoices(server.cluster);
    return {
      ...common,
      ...selfManagedChoices(c),
      syncBeforeAlter: (table) => [c.sync(table)],
      syncAfterFill: (table) => [c.sync(table)],
      bookkeepingTable: c.bookkeepingTable,
      createLedger: c.createLedger,
      ddlSettings: CLUSTER_DDL_SETTINGS,
      replicaRows: c.replicaRows,
      replicaCount: server.clusters.find((x) => x.name === c.plainName)?.replicas ?? 1,
      loadPerHost: true,
    };
  }
  return {
    ...common,
    consistentRead: (statement) =>
      many ? { ...statement, query: `${statement.query} ${SEQUENTIAL_CONSISTENCY}` } : statement,
    syncBeforeAlter: (table) => (many ? [syncReplicaLightweight(table)] : []),
    syncAfterFill: () => [],
    systemTable: (name) => (many ? `clusterAllReplicas('${CLOUD_CLUSTER}', system.${name})` : `system.${name}`),
    killScope: many ? ` ON CLUSTER ${CLOUD_CLUSTER}` : '',
    createLike: (table, like, options = {}) =>
      options.ifNotExists ? createTableLikeIfNotExists(table, like) : createTableLike(table, like),
    dropTable: dropTableIfExists,
    ddl: (statement) => statement,
    createAsSelect: true,
    createsTarget: true,
    syncBeforeRead: () => [],
    bookkeepingTable: (statement) => statement,
    createLedger: (ledger) => createLedgerTable(ledger),
  };
}
