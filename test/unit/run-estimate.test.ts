import type { LedgerEntry } from '../../src/shared/ledger';
import { estimateRun } from '../../src/shared/run-estimate';

const build = (jobHash: string, rowsRead: number, buildMs: number, peakMemoryBytes?: number): LedgerEntry => ({
  partition: '202401',
  swappedAt: '2024-02-01T00:00:00.000Z',
  writer: 'backfill-1',
  build: 'rebuild',
  action: 'replaced',
  jobHash,
  note: '',
  targetRows: 1,
  rowsRead,
  buildMs,
  peakMemoryBytes,
});

describe("estimateRun: the plan's estimate from measured builds", () => {
  const taken = [{ sourceRows: 2_000_000 }, { sourceRows: 4_000_000 }];

  it('has no basis without a measured build', () => {
    expect(estimateRun([build('job', 0, 0)], 'job', taken, 1)).toEqual({
      rows: 6_000_000,
      largestRows: 4_000_000,
      parallelism: 1,
    });
  });

  it('scales the measured rate of the same job definition, over the parallel partitions', () => {
    const sample = [build('job', 1_000_000, 1_000), build('job', 3_000_000, 3_000), build('other', 1_000, 1_000)];
    expect(estimateRun(sample, 'job', taken, 2)).toEqual({
      rows: 6_000_000,
      largestRows: 4_000_000,
      parallelism: 2,
      basis: { builds: 2, sameJob: true, rowsPerSecond: 1_000_000 },
      insertMs: 3_000,
    });
  });

  it("falls back on another definition's builds, saying so, and scales the highest peak per row to the largest partition", () => {
    const sample = [build('other', 1_000_000, 2_000, 100_000_000), build('other', 1_000_000, 2_000, 50_000_000)];
    expect(estimateRun(sample, 'job', taken, 8)).toMatchObject({
      basis: { builds: 2, sameJob: false, rowsPerSecond: 500_000 },
      insertMs: 6_000,
      memory: { bytes: 400_000_000, measuredBytes: 100_000_000, measuredRows: 1_000_000 },
    });
  });
});
