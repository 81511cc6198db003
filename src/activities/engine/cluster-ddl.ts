import type { ClickHouse, RunOptions } from '../../clickhouse/clickhouse';
import type { Statement } from '../../clickhouse/statement';
import type { ServerDialect } from '../../sql/engine/server-dialect';

/** One host's answer to DDL on a cluster (`ON CLUSTER`, or a `Replicated` database's own replication). */
interface DdlHostStatus {
  host?: string;
  shard?: string;
  replica?: string;
  status: string | number | null;
  error?: string;
}

/** DDL that some host has not finished within `distributed_ddl_task_timeout`: retried, the DDL looked at again. */
export class DdlPendingError extends Error {
  override readonly name = 'DdlPendingError';
}

/**
 * Runs a DDL statement (create, drop of a shadow or backup) as the dialect says: where DDL reaches several hosts
 * (`dialect.ddlSettings`), reading its status per host: a host that answers an error fails the step (retried), a
 * host without an answer in time (`null_status_on_timeout`) throws {@link DdlPendingError} naming it, so Temporal
 * retries the step and the idempotent DDL is looked at again; elsewhere a plain exec.
 */
export async function runDdl(ch: ClickHouse, statement: Statement, dialect: ServerDialect): Promise<void> {
  if (!dialect.ddlSettings) return ch.exec(statement);
  const hosts = await ch.rows(statement as Statement<DdlHostStatus>, { settings: dialect.ddlSettings });
  const named = (h: DdlHostStatus) => h.host ?? `${h.shard ?? '?'}|${h.replica ?? '?'}`;
  const failed = hosts.filter((h) => h.status !== null && !['0', 'OK'].includes(String(h.status)));
  if (failed.length > 0) {
    throw new Error(`DDL failed on ${failed.map((h) => `${named(h)}: ${h.error ?? String(h.status)}`).join('; ')}`);
  }
  const pending = hosts.filter((h) => h.status === null).map(named);
  if (pending.length > 0) {
    throw new DdlPendingError(`DDL not finished in time on ${pending.join(', ')}: looked at again on retry`);
  }
}

/** A statement that the server sends to every host of the cluster through its DDL queue, like `ON CLUSTER` DDL. */
export function fansOut(statement: Statement): boolean {
  return /^SYSTEM SYNC REPLICA ON CLUSTER /.test(statement.query);
}

/**
 * Runs one statement of a step: a cluster-wide sync ({@link fansOut}) through {@link runDdl}, so a replica that is
 * down or has not caught up within `distributed_ddl_task_timeout` reads as "look again" (`DdlPendingError`,
 * retried, naming the host) instead of the server's TIMEOUT_EXCEEDED, which would read as a profile limit and
 * fail the partition after three attempts; any other statement as a plain `exec` with `options`.
 */
export async function runStatement(
  ch: ClickHouse,
  statement: Statement,
  dialect: ServerDialect,
  options?: RunOptions,
): Promise<void> {
  if (dialect.ddlSettings && fansOut(statement)) return runDdl(ch, statement, dialect);
  return ch.exec(statement, options);
}

/**
 * The settings a step's statement runs with beyond its own text, as a dry run prints them: where DDL reaches
 * several hosts, those of `runDdl` for DDL (`ddl`) and for the cluster-wide syncs ({@link fansOut}); none otherwise.
 */
export function ddlRunSettings(
  statement: Statement,
  dialect: ServerDialect,
  ddl: boolean,
): { settings?: Record<string, string | number> } {
  return dialect.ddlSettings && (ddl || fansOut(statement)) ? { settings: dialect.ddlSettings } : {};
}
