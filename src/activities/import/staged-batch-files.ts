import { createHash, randomUUID } from 'node:crypto';
import type { ClickHouse } from '../../clickhouse/clickhouse';
import { IMPORT_BATCHES_TABLE, type ImportFile } from '../../shared/import-file-source';
import type { BatchFilesRef, ImportBatch, ImportBatchBuild, StagedFilesRef } from '../../shared/import-input';
import type { ImportPartitionTask } from '../../shared/partition-task';
import type { TableRef } from '../../shared/table-ref';
import type { ServerProfile } from '../../shared/server-profile';
import { dialectOf } from '../../sql/engine/server-dialect';
import { runDdl, runStatement } from '../engine/cluster-ddl';
import {
  createImportBatches,
  insertImportBatches,
  selectImportBatchFiles,
  type StagedFile,
} from '../../sql/import/import-files';
import { JobSpecError } from '../engine/errors';
import { tableExists } from '../engine/step-runner';

/**
 * Bounded history for imports of many files: a plan does not return its batches' file lists (tens of thousands
 * of paths would overflow Temporal's 2 MB payloads, in the plan's result and in every continue-as-new carry). It
 * stages them in `<target db>._backfill_import_batches`, keyed by a plan id unique to that planning and the
 * batch's id, and returns each batch with its file count, bytes, first and last file and the hash of its list
 * (path, size, ETag, modification time, in order). Every step of a batch reads its list back and checks the
 * hash, so a retry, a resume or a rerun of the workflow reads exactly the files the plan fixed, or fails
 * (non-retryable) if the staged list is gone or differs. The table is written once per plan and never changed;
 * its rows expire after 90 days.
 */

/** The staged lists' table of a target: beside it, in its database, with the ledger. */
export const importBatchesOf = (target: TableRef): TableRef => ({
  database: target.database,
  name: IMPORT_BATCHES_TABLE,
});

/** The hash of a batch's file list: what a step checks the staged list against. */
export function fileListHash(list: readonly ImportFile[]): string {
  const canonical = JSON.stringify(list.map((f) => [f.path, f.size, f.etag, f.mtime]));
  return createHash('sha256').update(canonical).digest('hex');
}

/** Files staged per statement: a batch's worth at most (`fileBatches.maxFiles` ≤ 1000), parameters stay small. */
const STAGED_PER_INSERT = 1000;

/**
 * Stages the file lists of `batches` (see the module) and returns the batches without them, with their file
 * count and the hash of their list.
 */
export async function stageBatchFiles(
  ch: ClickHouse,
  target: TableRef,
  batches: ImportBatch[],
  server?: ServerProfile,
): Promise<{ staged: StagedFilesRef; batches: ImportBatch[] }> {
  const staged: StagedFilesRef = { table: importBatchesOf(target), plan: randomUUID() };
  const dialect = dialectOf(server);
  // On a cluster on every replica: every batch's steps read their list back through any node.
  await runDdl(ch, dialect.bookkeepingTable(createImportBatches(staged.table), staged.table), dialect);
  const rows: StagedFile[] = batches.flatMap((b) => (b.files ?? []).map((f, ord) => ({ batch: b.id, ord, ...f })));
  for (let i = 0; i < rows.length; i += STAGED_PER_INSERT) {
    await ch.exec(insertImportBatches(staged.table, staged.plan, rows.slice(i, i + STAGED_PER_INSERT)));
  }
  return {
    staged,
    batches: batches.map(({ files, ...b }) => ({
      ...b,
      fileCount: files?.length ?? 0,
      filesHash: fileListHash(files ?? []),
    })),
  };
}

/** A batch's files as a list: what the statements of a batch render. */
export type ListedFiles = Extract<BatchFilesRef, { list: ImportFile[] }>;

/** An import batch's task whose files (if any) are a list. */
export type ListedImportTask = ImportPartitionTask & { build: ImportBatchBuild & { files?: ListedFiles } };

/** The task as it is, when its files are a list (a dry run's, a plan's from before staging); else undefined. */
export function listedTask(task: ImportPartitionTask): ListedImportTask | undefined {
  const files = task.build.files;
  return !files || 'list' in files ? (task as ListedImportTask) : undefined;
}

/**
 * The task with its batch's files as a list: as it is, or read back from the staged lists and checked against
 * the plan's count and hash. A list that is gone (expired, dropped) or differs fails the batch, non-retryable.
 */
export async function listBatchFiles(ch: ClickHouse, task: ImportPartitionTask): Promise<ListedImportTask> {
  const listed = listedTask(task);
  if (listed) return listed;
  const files = task.build.files as Extract<BatchFilesRef, { staged: unknown }>;
  const { staged } = files;
  const dialect = dialectOf(task.server);
  const present = await tableExists(ch, staged.table);
  // Staged by the plan through any node: on a cluster every replica is synced first.
  if (present) for (const statement of dialect.syncBeforeRead(staged.table)) await runStatement(ch, statement, dialect);
  const rows = present ? await ch.rows(selectImportBatchFiles(staged.table, staged.plan, staged.batch)) : [];
  const list = rows.map((r) => ({ path: r.path, size: Number(r.size), etag: r.etag, mtime: Number(r.mtime) }));
  if (list.length !== staged.count || fileListHash(list) !== staged.hash) {
    throw new JobSpecError(
      'source',
      `the file list of batch ${staged.batch} staged by the plan (${staged.count} files in ` +
        `${staged.table.database}.${staged.table.name}, plan ${staged.plan}) is ` +
        `${list.length === 0 ? 'gone' : 'not what the plan staged'}: start the import again to plan afresh`,
    );
  }
  return { ...task, build: { ...task.build, files: { reader: files.reader, list } } };
}
