import type { ClickHouse } from '../../clickhouse/clickhouse';
import type { ServerDialect } from '../../sql/engine/server-dialect';
import { qualifiedName, type TableRef } from '../../shared/table-ref';
import { SwapVerificationError } from './errors';

/**
 * After a swap on a replicated cluster (`dialect.replicaRows`): every replica's partition of `table` must hold
 * `expected` rows, the shadow's. A replica holding other rows, or none while the shadow held some (a replica that
 * did not answer), fails the swap with `SwapVerificationError` (retried), before the ledger records it. Nothing
 * is read where there is one count for every replica.
 */
export async function everyReplicaHolds(
  ch: ClickHouse,
  dialect: ServerDialect,
  table: TableRef,
  partitionId: string,
  expected: number,
): Promise<void> {
  if (!dialect.replicaRows) return;
  const replicas = await ch.rows(dialect.replicaRows(table, partitionId));
  const short = replicas.filter((r) => Number(r.rows) !== expected).map((r) => `${r.host} holds ${r.rows}`);
  const silent = (dialect.replicaCount ?? 0) - replicas.length;
  if (expected > 0 && silent > 0) short.push(`${silent} replica(s) hold none`);
  if (short.length > 0) {
    throw new SwapVerificationError(
      `partition ${partitionId} after the swap: ${short.join(', ')}; the shadow ${expected} rows`,
    );
  }
}

/**
 * After a `MOVE PARTITION` out of `table` (a view's shadow, an import's duplicate) on a replicated cluster: no
 * replica's `table` may still hold rows of the partition, or that replica has not applied the move (its copy
 * would be dropped with the table): `SwapVerificationError` (retried; the retried move moves what is left). A
 * replica that is down fails the read itself (`clusterAllReplicas` without `skip_unavailable_shards`), retried
 * alike. Nothing is read where there is one count for every replica.
 */
export async function nothingLeftOnReplicas(
  ch: ClickHouse,
  dialect: ServerDialect,
  table: TableRef,
  partitionId: string,
): Promise<void> {
  if (!dialect.replicaRows) return;
  const left = (await ch.rows(dialect.replicaRows(table, partitionId))).filter((r) => Number(r.rows) > 0);
  if (left.length > 0) {
    throw new SwapVerificationError(
      `partition ${partitionId}: ${qualifiedName(table)} still holds rows after MOVE PARTITION on ` +
        left.map((r) => `${r.host} (${r.rows})`).join(', '),
    );
  }
}
