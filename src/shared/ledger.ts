/** The ledger table a job records its swaps in, in the target's database, unless the job names another. */
export const DEFAULT_LEDGER_TABLE = '_backfill_ledger';

/**
 * What the source rows feeding one target partition looked like, from the source's part metadata and one pass over
 * the date expression's columns (see src/sql/aggregate/source-fingerprint.ts).
 *
 * Two measures tell a change, and each misses what the other catches:
 * - `version`, the highest block or mutation number among the source parts holding the partition's rows. An INSERT,
 *   a mutation (UPDATE, DELETE), an ATTACH or a REPLACE PARTITION raise it; a merge of those parts keeps it. But
 *   ClickHouse gives every part of the table a new mutation number for any mutation, even parts it left unchanged.
 * - `contentHash`, a hash of those parts' own content hashes (`hash_of_all_files`). A mutation that left a part
 *   unchanged keeps it; a merge changes it.
 * So a partition changed when its rows (in all, or per day) differ, or when both measures differ. `parts`,
 * `modifiedAt` and `bytes` only inform.
 */
export interface SourceFingerprint {
  rows: number;
  /** Source rows per day of the date expression (`YYYY-MM-DD`). */
  days: Record<string, number>;
  version: number;
  contentHash: string;
  /** Per day, the hash of the content hashes of the parts holding that day's rows. */
  dayHashes: Record<string, string>;
  parts: number;
  /** Latest modification time (epoch seconds) among those parts. */
  modifiedAt: number;
  /** The rows' share of those parts' bytes on disk (an estimate: parts are apportioned by rows). */
  bytes: number;
}

/**
 * The source as a build read it, just before its INSERT: the fingerprint, and per day the highest data version
 * (the part's first block, or its mutation) of the parts holding that day's rows, which the daily run needs to
 * tell whether the other days of the partition were rewritten since the previous ledger row.
 */
export interface SourceSnapshot {
  fingerprint: SourceFingerprint;
  dataVersions: Record<string, number>;
}

/** The newest ledger row of one target partition, as read back. */
export interface LedgerEntry {
  partition: string;
  /** When the swap was recorded, UTC ISO. */
  swappedAt: string;
  /** The job that swapped: a backfill, a daily run, a rollback (its workflow id). */
  writer: string;
  /** `rebuild`, `day YYYY-MM-DD` or `restore`. */
  build: string;
  /** What the swap did: `replaced`, `dropped` or `unchanged`. */
  action: string;
  jobHash: string;
  /** Absent when the partition's contents cannot be vouched for (see `note`). */
  fingerprint?: SourceFingerprint;
  note: string;
  /** Target rows right after the swap. */
  targetRows: number;
  rowsRead: number;
  buildMs: number;
  /** Peak memory of the build's INSERT, when the server's query log had it. */
  peakMemoryBytes?: number;
}

/** Which partitions of the range a backfill takes. */
export const ONLY_MODES = ['all', 'missing', 'changed', 'failed'] as const;
export type OnlyMode = (typeof ONLY_MODES)[number];

export interface PartitionChange {
  changed: boolean;
  reason: string;
}

const sameDays = (a: Record<string, number>, b: Record<string, number>): boolean => {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...keys].every((d) => (a[d] ?? 0) === (b[d] ?? 0));
};

/**
 * Whether a partition must be rebuilt for `--only changed`: its newest ledger row must exist, come from the same job
 * definition, vouch for its contents with a fingerprint equal to the source's now, and the target must still hold
 * the rows the ledger recorded. `current` is undefined when the source has no fingerprint (not a MergeTree table).
 */
export function partitionChange(
  current: SourceFingerprint | undefined,
  entry: LedgerEntry | undefined,
  jobHash: string,
  targetRows: number,
): PartitionChange {
  const changed = (reason: string): PartitionChange => ({ changed: true, reason });
  if (!entry) return changed('not in the ledger');
  if (entry.jobHash !== jobHash) return changed(`job definition changed since ${entry.writer}`);
  if (!entry.fingerprint) return changed(`the ledger cannot vouch for it: ${entry.note || 'no fingerprint'}`);
  if (!current) return changed('the source has no fingerprint (not a MergeTree table)');
  if (entry.targetRows !== targetRows) {
    return changed(`the target holds ${targetRows} rows, the ledger recorded ${entry.targetRows}`);
  }
  const was = entry.fingerprint;
  if (was.rows !== current.rows) return changed(`source rows ${was.rows} → ${current.rows}`);
  if (!sameDays(was.days, current.days)) return changed('source rows moved between days');
  if (was.version !== current.version && was.contentHash !== current.contentHash) {
    return changed('source rewritten (new parts or mutations)');
  }
  return { changed: false, reason: `unchanged since ${entry.swappedAt} (${entry.writer})` };
}

/**
 * The fingerprint a daily run may record for the whole partition after rebuilding `day` in it, or why it may not.
 * The other days come from the live partition, so they are vouched for only when the previous ledger row (of the same
 * job definition) vouched for them and their source rows were neither changed nor rewritten since: the same rows
 * per day, and either no part holding a day newer than that row's version (merges keep it) or the same content of
 * the parts holding it (a mutation that left them unchanged keeps that). A partition the ledger never saw is
 * vouched for only when `day` is all it holds (`otherTargetRows` = 0 and no other day has source rows).
 */
export function dayBuildFingerprint(
  snapshot: SourceSnapshot,
  day: string,
  previous: LedgerEntry | undefined,
  jobHash: string,
  otherTargetRows: number,
): { fingerprint?: SourceFingerprint; note: string } {
  const { fingerprint, dataVersions } = snapshot;
  const others = Object.keys(fingerprint.days).filter((d) => d !== day);
  if (!previous) {
    if (others.length === 0 && otherTargetRows === 0) return { fingerprint, note: '' };
    return { note: `day ${day} loaded; no earlier ledger row vouches for the other days` };
  }
  if (previous.jobHash !== jobHash)
    return { note: `day ${day} loaded; the other days came from another job definition` };
  const was = previous.fingerprint;
  if (!was) return { note: `day ${day} loaded; the earlier ledger row did not vouch for the other days` };
  for (const d of new Set([...others, ...Object.keys(was.days).filter((x) => x !== day)])) {
    if ((fingerprint.days[d] ?? 0) !== (was.days[d] ?? 0)) {
      return { note: `day ${day} loaded; source rows of ${d} changed since ${previous.swappedAt}` };
    }
    if ((dataVersions[d] ?? 0) > was.version && fingerprint.dayHashes[d] !== was.dayHashes[d]) {
      return { note: `day ${day} loaded; source rows of ${d} were rewritten since ${previous.swappedAt}` };
    }
  }
  return { fingerprint, note: '' };
}
