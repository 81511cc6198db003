import type { Statement } from '../../clickhouse/statement';
import type { FileReader } from '../../shared/import-file-source';
import { quoteAllowListedIdentifier as q } from '../engine/quote-identifier';
import { tableParam } from '../engine/table-param';
import { fileTableFunction } from '../engine/file-table-function';
import type { TableRef } from '../../shared/table-ref';
import type { RowsCondition } from './import';

/**
 * The statements of an import whose history is files (`s3`, `url`, `file`). The table function is built here,
 * never from the job's expressions: its path and format travel as query parameters (ClickHouse takes them there),
 * a named collection's name through the allow-list quoting. No credential is ever part of a statement: the server
 * finds them in its environment or in the named collection.
 */

const tableFunction = (reader: FileReader, format?: string) => fileTableFunction(reader, format);

/** Only s3 has an ETag, and url no modification time. */
const etagOf = (reader: FileReader): string => (reader.fn === 's3' ? "ifNull(_etag, '')" : "''");
const mtimeOf = (reader: FileReader): string =>
  reader.fn === 'url' ? '0' : 'toUInt32(ifNull(toUnixTimestamp(_time), 0))';

/** Every file the glob matches, without reading them (format `One`): path, size, ETag, modification time. */
export function selectSourceFiles(
  reader: FileReader,
): Statement<{ path: string; size: string; etag: string; mtime: string | number }> {
  const fn = tableFunction(reader, 'One');
  return {
    query: [
      `SELECT _path AS path, toString(ifNull(_size, 0)) AS size, ${etagOf(reader)} AS etag, ${mtimeOf(reader)} AS mtime`,
      `FROM ${fn.sql} ORDER BY path`,
    ].join('\n'),
    params: fn.params,
  };
}

/** The columns the files hold, as the server infers them (from the first file the glob matches). */
export function describeSourceFiles(reader: FileReader): Statement<{ name: string; type: string }> {
  const fn = tableFunction(reader);
  return { query: `DESCRIBE TABLE ${fn.sql}`, params: fn.params };
}

/**
 * A batch's files and its rows before the checkpoint (on a shard's task, those `owns` selects: the rows that shard
 * owns), as `WHERE` conditions and their parameters.
 */
function batchFilesFilter(timeColumn: string, checkpoint: number, paths: string[], owns?: RowsCondition) {
  return {
    where:
      `_path IN {batch_files:Array(String)} AND ${q(timeColumn)} < fromUnixTimestamp64Micro({checkpoint:Int64})` +
      (owns ? ` AND (${owns.where})` : ''),
    params: { batch_files: paths, checkpoint, ...owns?.params },
  };
}

/** Files' identity as the array parameters the statements zip back into rows: path, size, etag, mtime. */
function fileColumns(files: { path: string; size: number; etag: string; mtime: number }[]) {
  return {
    paths: files.map((f) => f.path),
    sizes: files.map((f) => f.size),
    etags: files.map((f) => f.etag),
    mtimes: files.map((f) => f.mtime),
  };
}

/**
 * A batch's fill: the rows before the checkpoint of exactly its files (on a shard's task, `owns`: those that shard
 * owns), into the main table's duplicate.
 */
export function insertFileBatch(
  reader: FileReader,
  into: TableRef,
  columns: string[],
  timeColumn: string,
  checkpoint: number,
  paths: string[],
  owns?: RowsCondition,
): Statement {
  const fn = tableFunction(reader);
  const dst = tableParam('into', into);
  const filter = batchFilesFilter(timeColumn, checkpoint, paths, owns);
  const list = columns.map(q).join(', ');
  return {
    query: `INSERT INTO ${dst.sql} (${list})\nSELECT ${list} FROM ${fn.sql}\nWHERE ${filter.where}`,
    params: { ...fn.params, ...dst.params, ...filter.params },
  };
}

/**
 * Per file of a batch, its rows before the checkpoint (on a shard's task, `owns`: those that shard owns) and its
 * size and ETag now (a file with none of those rows has no row).
 */
export function selectFileBatchRows(
  reader: FileReader,
  timeColumn: string,
  checkpoint: number,
  paths: string[],
  owns?: RowsCondition,
): Statement<{ path: string; rows: string; size: string; etag: string }> {
  const fn = tableFunction(reader);
  const filter = batchFilesFilter(timeColumn, checkpoint, paths, owns);
  return {
    query: [
      `SELECT _path AS path, toString(count()) AS rows, toString(any(ifNull(_size, 0))) AS size,`,
      `  any(${etagOf(reader)}) AS etag`,
      `FROM ${fn.sql} WHERE ${filter.where} GROUP BY _path ORDER BY path`,
    ].join('\n'),
    params: { ...fn.params, ...filter.params },
  };
}

/** Reads one file whole (its row count): how a failed batch finds the file it failed on. */
export function selectOneFileRows(reader: FileReader, path: string): Statement<{ rows: string }> {
  const fn = tableFunction(reader);
  return {
    query: `SELECT toString(count()) AS rows FROM ${fn.sql} WHERE _path = {file:String}`,
    params: { ...fn.params, file: path },
  };
}

/** The ledger of loaded files: one row per file a batch moved into the live tables. */
export function createFilesLedger(ledger: TableRef): Statement {
  const t = tableParam('ledger', ledger);
  return {
    query: [
      `CREATE TABLE IF NOT EXISTS ${t.sql} (`,
      '  target String, source String, path String, size UInt64, etag String, mtime UInt32, rows UInt64,',
      '  batch String, run String, checkpoint Int64, loaded_at DateTime64(3) DEFAULT now64(3)',
      ') ENGINE = MergeTree ORDER BY (target, path, loaded_at)',
    ].join('\n'),
    params: t.params,
  };
}

/** One loaded file, as the ledger records it. */
export interface LoadedFile {
  path: string;
  size: number;
  etag: string;
  mtime: number;
  rows: number;
}

/** Records a batch's loaded files (after its moves); `run` names the batch's run (its main duplicate). */
export function insertLoadedFiles(
  ledger: TableRef,
  run: { target: string; source: string; batch: string; run: string; checkpoint: number },
  files: LoadedFile[],
): Statement {
  const t = tableParam('ledger', ledger);
  return {
    query: [
      `INSERT INTO ${t.sql} (target, source, path, size, etag, mtime, rows, batch, run, checkpoint)`,
      'SELECT {target:String}, {source:String}, f.1, f.2, f.3, f.4, f.5, {batch:String}, {run:String}, {checkpoint:Int64}',
      'FROM (SELECT arrayJoin(arrayZip({paths:Array(String)}, {sizes:Array(UInt64)}, {etags:Array(String)},',
      '  {mtimes:Array(UInt32)}, {rows:Array(UInt64)})) AS f)',
    ].join('\n'),
    params: {
      ...t.params,
      target: run.target,
      source: run.source,
      batch: run.batch,
      run: run.run,
      checkpoint: run.checkpoint,
      ...fileColumns(files),
      rows: files.map((f) => f.rows),
    },
  };
}

/**
 * The per-file counts validation took of a batch (rows before the checkpoint, size, ETag, modification time),
 * kept until the batch's moves record them in the ledger: the record then reads these few rows instead of the
 * files again. Rows expire after 30 days (a batch that never reached its moves leaves its counts behind).
 */
export function createFileCounts(counts: TableRef): Statement {
  const t = tableParam('counts', counts);
  return {
    query: [
      `CREATE TABLE IF NOT EXISTS ${t.sql} (`,
      '  target String, run String, batch String, path String, size UInt64, etag String, mtime UInt32, rows UInt64,',
      '  counted_at DateTime64(3) DEFAULT now64(3)',
      ') ENGINE = MergeTree ORDER BY (target, run, batch, path) TTL toDateTime(counted_at) + INTERVAL 30 DAY',
    ].join('\n'),
    params: t.params,
  };
}

/** Keeps a batch's per-file counts as validation took them (`run` names the batch's run, its main duplicate). */
export function insertFileCounts(
  counts: TableRef,
  run: { target: string; run: string; batch: string },
  files: LoadedFile[],
): Statement {
  const t = tableParam('counts', counts);
  return {
    query: [
      `INSERT INTO ${t.sql} (target, run, batch, path, size, etag, mtime, rows)`,
      'SELECT {target:String}, {run:String}, {batch:String}, f.1, f.2, f.3, f.4, f.5',
      'FROM (SELECT arrayJoin(arrayZip({paths:Array(String)}, {sizes:Array(UInt64)}, {etags:Array(String)},',
      '  {mtimes:Array(UInt32)}, {rows:Array(UInt64)})) AS f)',
    ].join('\n'),
    params: {
      ...t.params,
      target: run.target,
      run: run.run,
      batch: run.batch,
      ...fileColumns(files),
      rows: files.map((f) => f.rows),
    },
  };
}

/** A batch's per-file counts as its last validation took them (a retried validation counts again). */
export function selectFileCounts(
  counts: TableRef,
  run: { target: string; run: string; batch: string },
): Statement<{ path: string; size: string; etag: string; mtime: string | number; rows: string }> {
  const t = tableParam('counts', counts);
  return {
    query: [
      'SELECT path, toString(argMax(size, counted_at)) AS size, argMax(etag, counted_at) AS etag,',
      '  argMax(mtime, counted_at) AS mtime, toString(argMax(rows, counted_at)) AS rows',
      `FROM ${t.sql} WHERE target = {target:String} AND run = {run:String} AND batch = {batch:String}`,
      'GROUP BY path ORDER BY path',
    ].join('\n'),
    params: { ...t.params, target: run.target, run: run.run, batch: run.batch },
  };
}

/**
 * The staged file lists of planned batches: one row per file, in the batch's order. A plan writes its lists once
 * and never changes them; rows expire after 90 days (an import is expected to finish, or be rerun with a new plan,
 * well within that).
 */
export function createImportBatches(batches: TableRef): Statement {
  const t = tableParam('batches', batches);
  return {
    query: [
      `CREATE TABLE IF NOT EXISTS ${t.sql} (`,
      '  plan String, batch String, ord UInt32, path String, size UInt64, etag String, mtime UInt32,',
      '  staged_at DateTime DEFAULT now()',
      ') ENGINE = MergeTree ORDER BY (plan, batch, ord) TTL staged_at + INTERVAL 90 DAY',
    ].join('\n'),
    params: t.params,
  };
}

/** One staged file: its batch and its place in it. */
export interface StagedFile {
  batch: string;
  ord: number;
  path: string;
  size: number;
  etag: string;
  mtime: number;
}

/** Stages files of one plan's batches (at most a batch's worth per statement: its parameters stay small). */
export function insertImportBatches(batches: TableRef, plan: string, files: StagedFile[]): Statement {
  const t = tableParam('batches', batches);
  return {
    query: [
      `INSERT INTO ${t.sql} (plan, batch, ord, path, size, etag, mtime)`,
      'SELECT {plan:String}, f.1, f.2, f.3, f.4, f.5, f.6',
      'FROM (SELECT arrayJoin(arrayZip({batch_ids:Array(String)}, {ords:Array(UInt32)}, {paths:Array(String)},',
      '  {sizes:Array(UInt64)}, {etags:Array(String)}, {mtimes:Array(UInt32)})) AS f)',
    ].join('\n'),
    params: {
      ...t.params,
      plan,
      batch_ids: files.map((f) => f.batch),
      ords: files.map((f) => f.ord),
      ...fileColumns(files),
    },
  };
}

/** A batch's staged files, in order (a plan retried after staging may have staged them twice: once each). */
export function selectImportBatchFiles(
  batches: TableRef,
  plan: string,
  batch: string,
): Statement<{ path: string; size: string; etag: string; mtime: string | number }> {
  const t = tableParam('batches', batches);
  return {
    query: [
      'SELECT path, toString(size) AS size, etag, mtime',
      `FROM ${t.sql} WHERE plan = {plan:String} AND batch = {batch:String}`,
      'ORDER BY ord LIMIT 1 BY ord',
    ].join('\n'),
    params: { ...t.params, plan, batch },
  };
}

/** Whether a batch of a run is already in the ledger (a retried move records it once). */
export function selectBatchRecorded(
  ledger: TableRef,
  target: string,
  run: string,
  batch: string,
): Statement<{ files: string }> {
  const t = tableParam('ledger', ledger);
  return {
    query: [
      `SELECT toString(count()) AS files FROM ${t.sql}`,
      'WHERE target = {target:String} AND run = {run:String} AND batch = {batch:String}',
    ].join('\n'),
    params: { ...t.params, target, run, batch },
  };
}

/** Every file the ledger holds as loaded into `target` from `source`: its newest record, and the checkpoint used. */
export function selectLoadedFiles(
  ledger: TableRef,
  target: string,
  source: string,
): Statement<{ path: string; size: string; etag: string; checkpoint: string }> {
  const t = tableParam('ledger', ledger);
  return {
    query: [
      'SELECT path, toString(argMax(size, loaded_at)) AS size, argMax(etag, loaded_at) AS etag,',
      '  toString(argMax(checkpoint, loaded_at)) AS checkpoint',
      `FROM ${t.sql} WHERE target = {target:String} AND source = {source:String} GROUP BY path ORDER BY path`,
    ].join('\n'),
    params: { ...t.params, target, source },
  };
}
