import type { LedgerEntry } from './ledger';

/** The measured builds an estimate is drawn from. */
export interface EstimateBasis {
  builds: number;
  /** False: none of the job's own definition was recorded, so builds of another definition of the target are used. */
  sameJob: boolean;
  rowsPerSecond: number;
}

/** What a run's INSERTs would take, from the ledger's measured builds of the target. */
export interface RunEstimate {
  /** Source rows of the partitions taken, and of the largest one. */
  rows: number;
  largestRows: number;
  parallelism: number;
  /** Absent: no measured build of the target, so no basis for an estimate. */
  basis?: EstimateBasis;
  /** The INSERTs' wall time at the measured rate, `parallelism` partitions at a time. */
  insertMs?: number;
  /** Absent: no measured build has a peak (the embedded engine keeps no query log). */
  memory?: { bytes: number; measuredBytes: number; measuredRows: number };
}

/**
 * Scales the ledger's measured builds of the target (`sample`) to the partitions to take: those of the same job
 * definition when there are any, else the others. The duration assumes the measured rows/s and `parallelism`
 * partitions at a time; the peak memory scales the highest measured peak per source row to the largest partition.
 */
export function estimateRun(
  sample: LedgerEntry[],
  jobHash: string,
  taken: { sourceRows: number }[],
  parallelism: number,
): RunEstimate {
  const rows = taken.reduce((n, p) => n + p.sourceRows, 0);
  const largestRows = Math.max(0, ...taken.map((p) => p.sourceRows));
  const estimate: RunEstimate = { rows, largestRows, parallelism };
  const measured = sample.filter((e) => e.rowsRead > 0 && e.buildMs > 0);
  const same = measured.filter((e) => e.jobHash === jobHash);
  const basis = same.length > 0 ? same : measured;
  if (basis.length === 0) return estimate;
  const rowsPerMs = basis.reduce((n, e) => n + e.rowsRead, 0) / basis.reduce((n, e) => n + e.buildMs, 0);
  estimate.basis = { builds: basis.length, sameJob: same.length > 0, rowsPerSecond: Math.round(rowsPerMs * 1000) };
  const lanes = Math.max(1, Math.min(parallelism, taken.length));
  estimate.insertMs = Math.round(rows / rowsPerMs / lanes);
  const perRow = (e: LedgerEntry): number => (e.peakMemoryBytes ?? 0) / e.rowsRead;
  const peaks = basis.filter((e) => e.peakMemoryBytes !== undefined);
  if (peaks.length > 0) {
    const top = peaks.reduce((a, b) => (perRow(b) > perRow(a) ? b : a));
    estimate.memory = {
      bytes: Math.round(perRow(top) * largestRows),
      measuredBytes: top.peakMemoryBytes ?? 0,
      measuredRows: top.rowsRead,
    };
  }
  return estimate;
}
