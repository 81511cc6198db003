import { Context } from '@temporalio/activity';
import type { ClickHouse } from '../../clickhouse/clickhouse';
import type { Statement } from '../../clickhouse/statement';
import type { AggregateJob } from '../../shared/job-spec';
import type { LedgerHistoryWorkflowInput } from '../../shared/plan-input';
import { dayBuildFingerprint, type LedgerEntry, type SourceFingerprint } from '../../shared/ledger';
import {
  insertLedgerRow,
  selectLatestLedgerRows,
  selectLedgerHistory,
  selectPreviousLedgerRow,
  type LedgerRecord,
  type LedgerRow,
} from '../../sql/engine/ledger';
import { dialectOf, type ServerDialect } from '../../sql/engine/server-dialect';
import type { ActivityDeps } from './deps';
import { runDdl, runStatement } from './cluster-ddl';
import { isUnknownTable, JobSpecError } from './errors';
import { detectServerProfile } from './server-profile';
import { jobDefinitionHash } from './job-definition-hash';
import { tableExists, type BuildResult, type SwapResult } from './step-runner';
import { tableResolver } from './table-resolver';
import { qualifiedName, type TableRef } from '../../shared/table-ref';
import type { AggregatePartitionTask } from '../../shared/partition-task';
import { shardedPartitionId } from '../../shared/partition-lock';

/** What the partition workflow tells its swap about the run, for the ledger row. */
export interface SwapContext {
  /** The job that swaps: the partition workflow's parent (a backfill, daily run, rollback), or itself. */
  writer: string;
  build: BuildResult;
  /** Source (or backup) rows the validated shadow was built from. */
  rowsRead: number;
  /**
   * The shadow's rows as validation counted them: nothing writes the shadow after validation, so the swap need not
   * count them again. Absent in histories from before validation reported them for this.
   */
  validatedRows?: number;
}

/** Where a job records its swaps: its ledger table, in the target's database. Absent in inputs from before it. */
export function ledgerTableOf(job: AggregateJob, target: TableRef): TableRef | undefined {
  return job.ledger ? { database: target.database, name: job.ledger.table } : undefined;
}

/** A ledger row as the rest of the code reads it. */
export function ledgerEntryOf(row: LedgerRow): LedgerEntry {
  const fingerprint: SourceFingerprint | undefined =
    Number(row.fingerprint_known) === 1
      ? {
          rows: Number(row.source_rows),
          days: JSON.parse(row.source_days) as Record<string, number>,
          version: Number(row.source_version),
          contentHash: row.source_hash,
          dayHashes: JSON.parse(row.source_day_hashes) as Record<string, string>,
          parts: Number(row.source_parts),
          modifiedAt: Number(row.source_modified),
          bytes: Number(row.source_bytes),
        }
      : undefined;
  return {
    partition: row.partition,
    swappedAt: row.swapped_at,
    writer: row.writer,
    build: row.build,
    action: row.action,
    jobHash: row.job_hash,
    fingerprint,
    note: row.note,
    targetRows: Number(row.target_rows),
    rowsRead: Number(row.rows_read),
    buildMs: Number(row.build_ms),
    peakMemoryBytes: row.peak_memory === null ? undefined : Number(row.peak_memory),
  };
}

/** Reads ledger rows; none when the ledger table does not exist yet (nothing was ever recorded there). */
export async function readLedger(
  ch: ClickHouse,
  ledger: TableRef,
  statement: Statement<LedgerRow>,
  dialect: ServerDialect = dialectOf(),
) {
  if (!(await tableExists(ch, ledger))) return [];
  // Rows recorded through another node: on a replicated cluster every replica synced first (see syncBeforeRead).
  for (const sync of dialect.syncBeforeRead(ledger)) await runStatement(ch, sync, dialect);
  return (await ch.rows(statement)).map(ledgerEntryOf);
}

/**
 * The newest ledger row of each partition of `target` between two partition ids, by partition. The rows were
 * written by earlier runs' swaps, through other requests: on Cloud read with sequential consistency (`dialect`,
 * from the plan's server profile), or a lagging replica would miss the newest swaps.
 */
export async function latestLedgerEntries(
  ch: ClickHouse,
  ledger: TableRef,
  target: TableRef,
  firstId: string,
  lastId: string,
  dialect: ServerDialect,
): Promise<Map<string, LedgerEntry>> {
  const statement = dialect.consistentRead(selectLatestLedgerRows(ledger, target.name, firstId, lastId));
  const entries = await readLedger(ch, ledger, statement, dialect);
  return new Map(entries.map((e) => [e.partition, e]));
}

/** What the ledger row says the target partition now holds: its fingerprint, or why there is none. */
async function vouchedFingerprint(
  ch: ClickHouse,
  ledger: TableRef,
  task: AggregatePartitionTask,
  context: SwapContext | undefined,
  jobHash: string,
  targetRows: number,
  run: string,
): Promise<{ fingerprint?: SourceFingerprint; note: string }> {
  const { build } = task;
  if (build.kind === 'restore') return { note: `restored from ${qualifiedName(build.from)}` };
  const snapshot = context?.build.source;
  if (!snapshot)
    return { note: 'the build read no source fingerprint (source not a MergeTree table, or older worker)' };
  if (build.kind === 'rebuild') return { fingerprint: snapshot.fingerprint, note: '' };
  // An earlier run's row: read as of every committed part on Cloud, after every replica is synced on a cluster.
  const dialect = dialectOf(task.server);
  for (const sync of dialect.syncBeforeRead(ledger)) await runStatement(ch, sync, dialect);
  const [previous] = await ch.rows(
    dialect.consistentRead(selectPreviousLedgerRow(ledger, task.target.name, task.partition.id, run)),
  );
  const otherTargetRows = targetRows - (context?.build.rowsWritten ?? 0);
  return dayBuildFingerprint(snapshot, build.day, previous && ledgerEntryOf(previous), jobHash, otherTargetRows);
}

/** The ledger's columns of the source's fingerprint; none known: zeros, and `fingerprint_known` 0. */
export function fingerprintColumns(fingerprint: SourceFingerprint | undefined) {
  return {
    fingerprint_known: fingerprint ? 1 : 0,
    source_rows: fingerprint?.rows ?? 0,
    source_version: fingerprint?.version ?? 0,
    source_parts: fingerprint?.parts ?? 0,
    source_modified: fingerprint?.modifiedAt ?? 0,
    source_bytes: Math.round(fingerprint?.bytes ?? 0),
    source_hash: fingerprint?.contentHash ?? '',
    source_days: JSON.stringify(fingerprint?.days ?? {}),
    source_day_hashes: JSON.stringify(fingerprint?.dayHashes ?? {}),
  };
}

/**
 * Writes one ledger row, creating the ledger first where it is missing (the first swap that finds none; on a
 * replicated cluster on every replica, with its own Keeper path: see ServerDialect.createLedger).
 */
export async function insertLedgerRecord(
  ch: ClickHouse,
  ledger: TableRef,
  record: LedgerRecord,
  dialect: ServerDialect,
): Promise<void> {
  const insert = insertLedgerRow(ledger, record);
  await ch.exec(insert).catch(async (err: unknown) => {
    if (!isUnknownTable(err)) throw err;
    await runDdl(ch, dialect.createLedger(ledger), dialect);
    await ch.exec(insert);
  });
}

/**
 * Records a swap of an aggregate partition in the job's ledger (created if missing): what the partition was built
 * from, by which job definition and job, and the target rows it holds now. Called by `swapPartition` after the swap
 * and its check, in the same activity.
 *
 * Durability: keyed by the partition workflow's run, which swaps once; a retried swap records the same key again
 * and the ledger (a ReplacingMergeTree, read with FINAL) keeps one row of it.
 */
export async function recordSwap(
  deps: ActivityDeps,
  task: AggregatePartitionTask,
  context: SwapContext | undefined,
  swap: { action: SwapResult['action']; targetRows: number },
): Promise<void> {
  const { clickhouse: ch, log } = deps;
  const ledger = ledgerTableOf(task.job, task.target);
  if (!ledger) return;
  // Every swap runs in a partition workflow; the shadow's name stands in should an activity run on its own.
  const execution = Context.current().info.workflowExecution ?? {
    workflowId: task.shadow.name,
    runId: task.shadow.name,
  };
  const jobHash = jobDefinitionHash(task.job, task.source);
  // A day's row reads the partition's previous row first; a rebuild's only writes, and creates the ledger on the
  // first swap that finds none (one statement less per partition).
  // On a replicated cluster the ledger is created on every replica (its own Keeper path), see ServerDialect.
  const dialect = dialectOf(task.server);
  if (task.build.kind === 'day') await runDdl(ch, dialect.createLedger(ledger), dialect);
  const { fingerprint, note } = await vouchedFingerprint(
    ch,
    ledger,
    task,
    context,
    jobHash,
    swap.targetRows,
    execution.runId,
  );
  const record: LedgerRecord = {
    target: task.target.name,
    // On a sharded cluster one row per (partition, shard): `<partition>@<shard>`.
    partition: shardedPartitionId(task.partition.id, task.server?.shard?.num),
    writer: context?.writer ?? execution.workflowId,
    writer_run: execution.runId,
    build: task.build.kind === 'day' ? `day ${task.build.day}` : task.build.kind,
    action: swap.action,
    job_hash: jobHash,
    source: qualifiedName(task.source),
    ...fingerprintColumns(fingerprint),
    note,
    target_rows: swap.targetRows,
    rows_read: context?.rowsRead ?? 0,
    build_ms: context?.build.durationMs ?? 0,
    peak_memory: context?.build.peakMemoryBytes ?? null,
  };
  await insertLedgerRecord(ch, ledger, record, dialect);
  log.info('swap recorded in the ledger', { partition: task.partition.id, vouched: fingerprint !== undefined, note });
}

/**
 * The dialect a read of the ledger outside a job (`history`, `report`) uses, from the server's profile: on a
 * replicated cluster the ledger is synced on every replica first, on Cloud read with sequential consistency, as the
 * plan reads it. A replicated cluster whose cluster is unclear (the server listed in several) is refused, asking
 * for `--cluster`, rather than read through one replica.
 */
async function ledgerReadDialect(
  ch: ClickHouse,
  target: TableRef,
  ledger: TableRef,
  cluster: string | undefined,
): Promise<ServerDialect> {
  const server = await detectServerProfile(ch, [target, ledger], { target, cluster });
  if (server.topology === 'replicated-cluster' && !server.cluster) {
    throw new JobSpecError(
      'cluster',
      `the server is a replicated cluster and it is unclear which cluster database ${target.database} lives on: ` +
        `name it with --cluster <name> (one of ${server.clusters.map((c) => c.name).join(', ')}), see docs/clusters.md`,
    );
  }
  return dialectOf(server);
}

export interface LedgerHistory {
  target: TableRef;
  ledger: TableRef;
  entries: LedgerEntry[];
}

/** The ledger, read for `ch-backfill history`. */
export function ledgerActivities({ clickhouse: ch }: ActivityDeps) {
  return {
    /**
     * The ledger rows of a target (`table` or `database.table`, resolved against the worker's current database; of
     * one partition when given), newest first, from the ledger table of the target's database. Durability: read-only.
     */
    async readLedgerHistory(input: LedgerHistoryWorkflowInput): Promise<LedgerHistory> {
      const target = (await tableResolver(ch))(input.target);
      const ledger = { database: target.database, name: input.ledger };
      // Read as the plan reads it: rows recorded through another node are seen (see latestLedgerEntries).
      const dialect = await ledgerReadDialect(ch, target, ledger, input.cluster);
      const entries = await readLedger(
        ch,
        ledger,
        dialect.consistentRead(selectLedgerHistory(ledger, target.name, input.partition, input.limit)),
        dialect,
      );
      return { target, ledger, entries };
    },
  };
}
