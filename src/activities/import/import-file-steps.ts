import { isClickHouseError } from '../../clickhouse/clickhouse-error';
import type { FileReader, ImportFile } from '../../shared/import-file-source';
import type { ImportPartitionTask } from '../../shared/partition-task';
import { qualifiedName } from '../../shared/table-ref';
import {
  createFilesLedger,
  insertLoadedFiles,
  selectBatchRecorded,
  selectFileBatchRows,
  selectOneFileRows,
} from '../../sql/import/import-files';
import type { ActivityDeps } from '../engine/deps';
import { JobSpecError } from '../engine/errors';
import { fileSourceName, filesLedgerOf } from './plan-file-import';

type BatchFiles = { reader: FileReader; list: ImportFile[] };

/** A file the plan listed that is not what it was then (another size or ETag): the batch must not load it. */
function changedSince(planned: ImportFile, now: { size: string; etag: string }): boolean {
  return Number(now.size) !== planned.size || (planned.etag !== '' && now.etag !== planned.etag);
}

/**
 * What an import batch of files does beyond a table's batch: name the file a failed fill failed on, count the
 * rows before the checkpoint per file for validation, and record the loaded files in the ledger after the moves.
 */
export function importFileChecks({ clickhouse: ch, log }: ActivityDeps) {
  /** Rows before the checkpoint per file of the batch; a file changed since the plan fails the batch, named. */
  async function perFile(task: ImportPartitionTask, files: BatchFiles) {
    const rows = await ch.rows(
      selectFileBatchRows(
        files.reader,
        task.job.target.timeColumn,
        task.build.checkpoint,
        files.list.map((f) => f.path),
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

  return {
    /** The batch's history rows: every row before the checkpoint of exactly its files. */
    async historyRows(task: ImportPartitionTask, files: BatchFiles): Promise<{ rows: string }> {
      const counted = await perFile(task, files);
      return { rows: String(counted.reduce((n, f) => n + f.rows, 0)) };
    },

    /**
     * Why a fill failed, when a file of the batch is to blame: each file is read alone, and the first that fails
     * names the batch's failure (non-retryable: the file will not read better next time). Otherwise `err` as is.
     */
    async nameBadFile(task: ImportPartitionTask, err: unknown): Promise<unknown> {
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
     * time and rows. Run after the moves; a retried move finds the batch recorded (by its duplicate's name, unique
     * to the run) and records nothing again.
     */
    async record(task: ImportPartitionTask, files: BatchFiles): Promise<void> {
      const ledger = filesLedgerOf(task.target);
      const target = qualifiedName(task.target);
      const run = qualifiedName(task.shadow);
      await ch.exec(createFilesLedger(ledger));
      const [recorded] = await ch.rows(selectBatchRecorded(ledger, target, run, task.partition.id));
      if (Number(recorded.files) > 0) return;
      const counted = await perFile(task, files);
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
