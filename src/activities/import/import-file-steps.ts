import { isClickHouseError } from '../../clickhouse/clickhouse-error';
import { IMPORT_FILE_COUNTS_TABLE, type ImportFile } from '../../shared/import-file-source';
import type { ImportPartitionTask } from '../../shared/partition-task';
import { qualifiedName, type TableRef } from '../../shared/table-ref';
import {
  createFileCounts,
  createFilesLedger,
  insertFileCounts,
  insertLoadedFiles,
  selectFileCounts,
  selectBatchRecorded,
  selectFileBatchRows,
  selectOneFileRows,
} from '../../sql/import/import-files';
import type { ActivityDeps } from '../engine/deps';
import { JobSpecError } from '../engine/errors';
import { tableExists } from '../engine/step-runner';
import { dialectOf } from '../../sql/engine/server-dialect';
import { shardRowsOf } from '../../sql/engine/shard-rows';
import type { Statement } from '../../clickhouse/statement';
import { runDdl, runStatement } from '../engine/cluster-ddl';
import type { ListedFiles, ListedImportTask } from './staged-batch-files';
import { fileSourceName, filesLedgerOf } from './plan-file-import';

type BatchFiles = ListedFiles;

/** Where validation keeps a batch's per-file counts for its record: beside the ledger, in the target's database. */
const fileCountsOf = (target: TableRef): TableRef => ({ database: target.database, name: IMPORT_FILE_COUNTS_TABLE });

/** The batch of a run, as the counts and the ledger name it. */
const batchOf = (task: ImportPartitionTask) => ({
  target: qualifiedName(task.target),
  run: qualifiedName(task.shadow),
  batch: task.partition.id,
});

/** A file the plan listed that is not what it was then (another size or ETag): the batch must not load it. */
function changedSince(planned: ImportFile, now: { size: string; etag: string }): boolean {
  return Number(now.size) !== planned.size || (planned.etag !== '' && now.etag !== planned.etag);
}

/**
 * What an import batch of files does beyond a table's batch: name the file a failed fill failed on, count the
 * rows before the checkpoint per file for validation, and record the loaded files in the ledger after the moves.
 */
export function importFileChecks({ clickhouse: ch, log }: ActivityDeps) {
  /**
   * A bookkeeping table created if missing: on a cluster on every replica as a replicated table (see
   * `ServerDialect.bookkeepingTable`).
   */
  async function create(task: ImportPartitionTask, statement: Statement, table: TableRef) {
    const dialect = dialectOf(task.server);
    await runDdl(ch, dialect.bookkeepingTable(statement, table), dialect);
  }

  /** Before reading what another activity wrote through any node: on a cluster every replica synced. */
  async function syncBeforeRead(task: ImportPartitionTask, table: TableRef) {
    const dialect = dialectOf(task.server);
    for (const statement of dialect.syncBeforeRead(table)) await runStatement(ch, statement, dialect);
  }

  /**
   * Rows before the checkpoint per file of the batch (on a shard's task, the rows that shard owns); a file changed
   * since the plan fails the batch, named.
   */
  async function perFile(task: ImportPartitionTask, files: BatchFiles) {
    const rows = await ch.rows(
      selectFileBatchRows(
        files.reader,
        task.job.target.timeColumn,
        task.build.checkpoint,
        files.list.map((f) => f.path),
        shardRowsOf(task.server, task.target),
      ),
    );
    const byPath = new Map(rows.map((r) => [r.path, r]));
    for (const f of files.list) {
      const now = byPath.get(f.path);
      if (now && changedSince(f, now)) {
        throw new JobSpecError(
          'source',
          `file ${f.path} changed since the plan listed it (size ${f.size} → ${now.size}, etag ${f.etag || '-'} → ` +
            `${now.etag || '-'}): batch ${task.partition.id} does not load it`,
        );
      }
    }
    return files.list.map((f) => ({ ...f, rows: Number(byPath.get(f.path)?.rows ?? 0) }));
  }

  /** The counts validation kept of the batch, if it kept one for every file of it (and they are what was planned). */
  async function validatedCounts(task: ImportPartitionTask, files: BatchFiles) {
    const counts = fileCountsOf(task.target);
    if (!(await tableExists(ch, counts))) return undefined;
    await syncBeforeRead(task, counts);
    const byPath = new Map((await ch.rows(selectFileCounts(counts, batchOf(task)))).map((r) => [r.path, r]));
    const kept = files.list.map((f) => ({ f, c: byPath.get(f.path) }));
    if (kept.some(({ f, c }) => !c || changedSince(f, c))) return undefined;
    return kept.map(({ f, c }) => ({ ...f, rows: Number(c?.rows) }));
  }

  return {
    /**
     * The batch's history rows: every row before the checkpoint of exactly its files, read from the files once;
     * the per-file counts are kept (a few rows per batch) for the record after the moves.
     */
    async historyRows(task: ImportPartitionTask, files: BatchFiles): Promise<{ rows: string }> {
      const counted = await perFile(task, files);
      const counts = fileCountsOf(task.target);
      await create(task, createFileCounts(counts), counts);
      await ch.exec(insertFileCounts(counts, batchOf(task), counted));
      return { rows: String(counted.reduce((n, f) => n + f.rows, 0)) };
    },

    /**
     * Why a fill failed, when a file of the batch is to blame: each file is read alone, and the first that fails
     * names the batch's failure (non-retryable: the file will not read better next time). Otherwise `err` as is.
     */
    async nameBadFile(task: ListedImportTask, err: unknown): Promise<unknown> {
      const files = task.build.files;
      if (!files || !isClickHouseError(err)) return err;
      for (const f of files.list) {
        try {
          await ch.rows(selectOneFileRows(files.reader, f.path));
        } catch (fileErr) {
          if (!isClickHouseError(fileErr)) throw fileErr;
          return new JobSpecError('source', `file ${f.path} of batch ${task.partition.id}: ${fileErr.message}`, {
            cause: fileErr,
          });
        }
      }
      // Every file reads alone: the fill's error is about the batch's rows (e.g. a value the column does not take).
      const file = /\(in file\/uri ([^)]+)\)/.exec(err.message)?.[1];
      return file
        ? new JobSpecError('source', `file ${file} of batch ${task.partition.id}: ${err.message}`, { cause: err })
        : err;
    },

    /**
     * Records the batch's files in the ledger of loaded files (created if missing): path, size, ETag, modification
     * time and rows, as validation counted them (the files are read again only if those counts are missing, e.g.
     * validated by an older worker). Run after the moves; a retried move finds the batch recorded (by its
     * duplicate's name, unique to the run) and records nothing again.
     */
    async record(task: ImportPartitionTask, files: BatchFiles): Promise<void> {
      const ledger = filesLedgerOf(task.target);
      const { target, run } = batchOf(task);
      await create(task, createFilesLedger(ledger), ledger);
      await syncBeforeRead(task, ledger);
      const [recorded] = await ch.rows(selectBatchRecorded(ledger, target, run, task.partition.id));
      if (Number(recorded.files) > 0) return;
      const counted = (await validatedCounts(task, files)) ?? (await perFile(task, files));
      await ch.exec(
        insertLoadedFiles(
          ledger,
          {
            target,
            source: fileSourceName(files.reader),
            batch: task.partition.id,
            run,
            checkpoint: task.build.checkpoint,
          },
          counted,
        ),
      );
      log.info('import batch files recorded', { partition: task.partition.id, files: counted.length });
    },
  };
}
