import type { Statement } from '../../clickhouse/statement';
import { versionAtLeast, type ServerProfile, type Topology } from '../../shared/server-profile';
import { qualifiedName, type TableRef } from '../../shared/table-ref';
import { quotedTable, tableParam } from './table-param';

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

/** Whether the server runs the statements of several replicas: Cloud (the only replicated topology supported). */
const replicated = (server: ServerProfile | undefined): boolean => server?.topology === 'cloud';

/**
 * The dialect of `server`. Absent (the embedded engine, or a task recorded before plans kept a profile): exactly
 * the statements of one server, as before profiles existed.
 */
export function dialectOf(server?: ServerProfile): ServerDialect {
  const many = replicated(server);
  const patches = server && versionAtLeast(server, ...PATCH_PARTS_SINCE) ? server.patchPartitions : {};
  return {
    topology: server?.topology ?? 'embedded',
    consistentRead: (statement) =>
      many ? { ...statement, query: `${statement.query} ${SEQUENTIAL_CONSISTENCY}` } : statement,
    rowCountsFrom: many ? 'table' : 'parts',
    syncBeforeAlter: (table) => (many ? [syncReplicaLightweight(table)] : []),
    partitionAlter: (statement) =>
      many ? { ...statement, query: `${statement.query} SETTINGS alter_sync = ${ALTER_SYNC_ACTIVE}` } : statement,
    systemTable: (name) => (many ? `clusterAllReplicas('${CLOUD_CLUSTER}', system.${name})` : `system.${name}`),
    killScope: many ? ` ON CLUSTER ${CLOUD_CLUSTER}` : '',
    applyPatches: (table, partitionId) =>
      (patches[qualifiedName(table)] ?? []).includes(partitionId)
        ? [applyPatchesInPartition(table, partitionId, many)]
        : [],
  };
}
