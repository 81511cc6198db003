import { evaluateCostGrowth, GROWTH_TARGET, renderCostGrowthReport } from '../../bench/cost-growth';
import { markdownTable } from '../../bench/format';
import type { DemoRun, ProfileRun } from '../../bench/partition-inserts';

const MiB = 2 ** 20;

/** One profile's run: `partitions` partitions of `rows` source rows each, taking `ms` each, peaking at `peaksMiB`. */
function profileRun(label: string, rows: number, ms: number, peaksMiB: number[], hash = 'h'): ProfileRun {
  return {
    profile: { label, settings: {} },
    partitions: peaksMiB.map((peak, i) => ({
      partition: `20240${i + 1}`,
      sourceRows: rows,
      salt: 1 + i,
      wallMs: ms,
      peakMemoryBytes: peak * MiB,
      memorySamples: 10,
      digest: { rows: '1', events: String(rows), hash },
    })),
  };
}

const run = (rows: number, runs: ProfileRun[]): DemoRun => ({ rows, seedMs: 1000, runs });

describe('cost growth', () => {
  // Small: 2 × 1 M rows in 2 × 1 s (1 M rows/s); large: 2 × 10 M rows.
  const small = run(2_000_000, [
    profileRun('engine defaults', 1_000_000, 1000, [400, 200]),
    profileRun('low-memory', 1_000_000, 1000, [100, 100]),
  ]);

  it('compares time per row over all INSERTs and the highest partition peak, per profile', () => {
    const large = run(20_000_000, [
      profileRun('engine defaults', 10_000_000, 12_500, [1600, 800]),
      profileRun('low-memory', 10_000_000, 12_600, [125, 100]),
    ]);
    const [defaults, lowMemory] = evaluateCostGrowth(small, large);
    expect(defaults).toMatchObject({
      label: 'engine defaults',
      small: { rowsPerSec: 1_000_000, peakBytes: 400 * MiB },
      large: { rowsPerSec: 800_000, peakBytes: 1600 * MiB },
      timePass: true,
      memoryPass: false,
    });
    expect(defaults.timeRatio).toBeCloseTo(GROWTH_TARGET);
    expect(defaults.memoryRatio).toBe(4);
    expect(lowMemory).toMatchObject({ memoryRatio: 1.25, memoryPass: true, timePass: false });
  });

  it('counts getting cheaper per row as flat', () => {
    const large = run(20_000_000, [profileRun('low-memory', 10_000_000, 5000, [100])]);
    expect(evaluateCostGrowth(small, large)).toEqual([
      expect.objectContaining({ label: 'low-memory', timeRatio: 0.5, timePass: true, memoryPass: true }),
    ]);
  });

  it('prints both sizes’ rows/s and peaks with the ratios and PASS/MISS', () => {
    const large = run(20_000_000, [
      profileRun('engine defaults', 10_000_000, 20_000, [1600]),
      profileRun('low-memory', 10_000_000, 10_000, [110]),
    ]);
    const text = renderCostGrowthReport(small, large).join('\n');
    expect(text).toContain('at 2,000,000 rows and 20,000,000 rows (salts 1, 2 and 1;');
    expect(text).toContain('at 10× the data');
    expect(text).toContain('same rows under every profile at both sizes: yes');
    expect(text).toMatch(
      /\| engine defaults \| 1,000,000 rows\/s +\| 500,000 rows\/s +\| 2\.00× MISS +\| 400\.0 MiB +\| 1600\.0 MiB +\| 4\.00× MISS/,
    );
    expect(text).toMatch(
      /\| low-memory +\| 1,000,000 rows\/s +\| 1,000,000 rows\/s +\| 1\.00× PASS +\| 100\.0 MiB +\| 110\.0 MiB +\| 1\.10× PASS/,
    );
  });
});

describe('cost growth exactness', () => {
  it('names the size and partition where a profile wrote other rows than the first profile', () => {
    const small = run(100, [profileRun('engine defaults', 50, 1, [1]), profileRun('low-memory', 50, 1, [1])]);
    const large = run(1000, [
      profileRun('engine defaults', 500, 1, [1]),
      profileRun('low-memory', 500, 1, [1], 'other'),
    ]);
    expect(evaluateCostGrowth(small, large).map((g) => g.inexact)).toEqual([[], ['1000:202401']]);
    expect(renderCostGrowthReport(small, large).join('\n')).toContain(
      'same rows under every profile at both sizes: NO (low-memory 1000:202401)',
    );
  });
});

describe('markdownTable', () => {
  it('pads every column to its widest cell', () => {
    expect(markdownTable(['a', 'bb'], [['ccc', 'd']])).toEqual(['| a   | bb |', '| --- | -- |', '| ccc | d  |']);
  });
});
