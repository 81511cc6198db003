import type { Statement } from '../../clickhouse/statement';
import { tableParam } from './table-param';
import type { TableRef } from '../../shared/table-ref';

/**
 * The ledger: one row per swap of a target partition, in a small table of the target's database shared by every
 * target there. Keyed by the partition workflow's run, which swaps once: a retried swap writes the same key again,
 * and the ReplacingMergeTree (read with FINAL) keeps one row of it. `engine`: a replicated cluster's
 * `ReplicatedReplacingMergeTree(…)`, decided by the dialect (`ServerDialect.createLedger`).
 */
export function createLedgerTable(ledger: TableRef, engine = 'ReplacingMergeTree'): Statement {
  const t = tableParam('ledger', ledger);
  return {
    query: [
      `CREATE TABLE IF NOT EXISTS ${t.sql} (`,
      "  target String, partition String, swapped_at DateTime64(3, 'UTC'),",
      '  writer String, writer_run String, build String, action LowCardinality(String), job_hash String,',
      '  source String, fingerprint_known UInt8, source_rows UInt64, source_version UInt64, source_parts UInt32,',
      "  source_modified DateTime('UTC'), source_bytes UInt64, source_hash String, source_days String,",
      '  source_day_hashes String, note String,',
      '  target_rows UInt64, rows_read UInt64, build_ms UInt64, peak_memory Nullable(UInt64)',
      `) ENGINE = ${engine} ORDER BY (target, partition, writer_run)`,
    ].join('\n'),
    params: t.params,
  };
}

/** One ledger row's values (numbers as numbers; `source_days` and `source_day_hashes` as JSON text). */
export interface LedgerRecord {
  target: string;
  partition: string;
  writer: string;
  writer_run: string;
  build: string;
  action: string;
  job_hash: string;
  source: string;
  fingerprint_known: number;
  source_rows: number;
  source_version: number;
  source_parts: number;
  source_modified: number;
  source_bytes: number;
  source_hash: string;
  source_days: string;
  source_day_hashes: string;
  note: string;
  target_rows: number;
  rows_read: number;
  build_ms: number;
  peak_memory: number | null;
}

const RECORD_TYPES: Record<keyof LedgerRecord, string> = {
  target: 'String',
  partition: 'String',
  writer: 'String',
  writer_run: 'String',
  build: 'String',
  action: 'String',
  job_hash: 'String',
  source: 'String',
  fingerprint_known: 'UInt8',
  source_rows: 'UInt64',
  source_version: 'UInt64',
  source_parts: 'UInt32',
  source_modified: 'UInt32',
  source_bytes: 'UInt64',
  source_hash: 'String',
  source_days: 'String',
  source_day_hashes: 'String',
  note: 'String',
  target_rows: 'UInt64',
  rows_read: 'UInt64',
  build_ms: 'UInt64',
  peak_memory: 'Nullable(UInt64)',
};

/** Appends one swap to the ledger, stamped with the server's clock. */
export function insertLedgerRow(ledger: TableRef, record: LedgerRecord): Statement {
  const t = tableParam('ledger', ledger);
  const columns = Object.keys(RECORD_TYPES) as (keyof LedgerRecord)[];
  const values = columns.map((c) =>
    c === 'source_modified' ? `toDateTime({${c}:UInt32}, 'UTC')` : `{${c}:${RECORD_TYPES[c]}}`,
  );
  return {
    query: `INSERT INTO ${t.sql} (swapped_at, ${columns.join(', ')})\nSELECT now64(3), ${values.join(', ')}`,
    params: { ...t.params, ...record },
  };
}

/** A ledger row as read back (64-bit numbers arrive as text). */
export interface LedgerRow {
  partition: string;
  swapped_at: string;
  writer: string;
  build: string;
  action: string;
  job_hash: string;
  fingerprint_known: number;
  source_rows: string;
  source_version: string;
  source_parts: number;
  source_modified: string;
  source_bytes: string;
  source_hash: string;
  source_days: string;
  source_day_hashes: string;
  note: string;
  target_rows: string;
  rows_read: string;
  build_ms: string;
  peak_memory: string | null;
}

const READ_COLUMNS = [
  'partition',
  "replaceOne(toString(swapped_at), ' ', 'T') || 'Z' AS swapped_at",
  'writer',
  'build',
  'action',
  'job_hash',
  'fingerprint_known',
  'source_rows',
  'source_version',
  'source_parts',
  'toString(toUnixTimestamp(source_modified)) AS source_modified',
  'source_bytes',
  'source_hash',
  'source_days',
  'source_day_hashes',
  'note',
  'target_rows',
  'rows_read',
  'build_ms',
  'peak_memory',
].join(', ');

/** The newest ledger row of each partition of `target` between two partition ids (inclusive). */
export function selectLatestLedgerRows(
  ledger: TableRef,
  target: string,
  firstId: string,
  lastId: string,
): Statement<LedgerRow> {
  const t = tableParam('ledger', ledger);
  return {
    query: [
      `SELECT ${READ_COLUMNS} FROM ${t.sql} FINAL`,
      'WHERE target = {target:String} AND length(partition) = length({first:String})',
      '  AND partition BETWEEN {first:String} AND {last:String}',
      'ORDER BY swapped_at DESC LIMIT 1 BY partition',
    ].join('\n'),
    params: { ...t.params, target, first: firstId, last: lastId },
  };
}

/** The newest ledger row of one partition written by another partition workflow run than `run`. */
export function selectPreviousLedgerRow(
  ledger: TableRef,
  target: string,
  partition: string,
  run: string,
): Statement<LedgerRow> {
  const t = tableParam('ledger', ledger);
  return {
    query: [
      `SELECT ${READ_COLUMNS} FROM ${t.sql} FINAL`,
      'WHERE target = {target:String} AND partition = {partition:String} AND writer_run != {run:String}',
      'ORDER BY swapped_at DESC LIMIT 1',
    ].join('\n'),
    params: { ...t.params, target, partition, run },
  };
}

/** The ledger rows of `target` (of one partition when given), newest first, at most `limit`. */
export function selectLedgerHistory(
  ledger: TableRef,
  target: string,
  partition: string | undefined,
  limit: number,
): Statement<LedgerRow> {
  const t = tableParam('ledger', ledger);
  return {
    query: [
      `SELECT ${READ_COLUMNS} FROM ${t.sql} FINAL`,
      `WHERE target = {target:String}${partition === undefined ? '' : ' AND partition = {partition:String}'}`,
      'ORDER BY swapped_at DESC, partition DESC LIMIT {limit:UInt32}',
    ].join('\n'),
    params: { ...t.params, target, limit, ...(partition === undefined ? {} : { partition }) },
  };
}

/** The newest ledger rows of `target` with a measured build: the sample the plan's estimate is drawn from. */
export function selectMeasuredBuilds(ledger: TableRef, target: string, limit: number): Statement<LedgerRow> {
  const t = tableParam('ledger', ledger);
  return {
    query: [
      `SELECT ${READ_COLUMNS} FROM ${t.sql} FINAL`,
      'WHERE target = {target:String} AND rows_read > 0 AND build_ms > 0',
      'ORDER BY swapped_at DESC LIMIT {limit:UInt32}',
    ].join('\n'),
    params: { ...t.params, target, limit },
  };
}
