import { evaluateInsertMemory, MEMORY_RATIO_TARGET, renderInsertMemoryReport } from '../../bench/insert-memory';
import { insertProfiles, PROFILE, type DemoRun, type PartitionInsert } from '../../bench/partition-inserts';

const MiB = 2 ** 20;

function insert(partition: string, peakMiB: number | undefined, hash = 'h', events = '100'): PartitionInsert {
  return {
    partition,
    sourceRows: 100,
    salt: 1,
    wallMs: 1000,
    peakMemoryBytes: peakMiB === undefined ? undefined : peakMiB * MiB,
    memorySamples: peakMiB === undefined ? 0 : 10,
    digest: { rows: '50', events, hash: `${partition}-${hash}` },
  };
}

/** Two partitions under the defaults (peaks 400 and 300 MiB) and under low-memory settings. */
function demoRun(low: PartitionInsert[]): DemoRun {
  return {
    rows: 200,
    seedMs: 10,
    runs: [
      {
        profile: { label: PROFILE.defaults, settings: {} },
        partitions: [insert('202401', 400), insert('202402', 300)],
      },
      { profile: { label: PROFILE.lowMemory, settings: { max_threads: 1 } }, partitions: low },
    ],
  };
}

describe('the insert-memory verdict', () => {
  it('passes when the highest low-memory peak is at most half the highest default one and the rows are the same', () => {
    const verdict = evaluateInsertMemory(demoRun([insert('202401', 100), insert('202402', 200)]));
    expect(verdict).toEqual({
      defaultPeakBytes: 400 * MiB,
      lowMemoryPeakBytes: 200 * MiB,
      ratio: MEMORY_RATIO_TARGET,
      inexact: [],
      pass: true,
    });
  });

  it('misses when the low-memory peak is more than half the default one', () => {
    const verdict = evaluateInsertMemory(demoRun([insert('202401', 100), insert('202402', 201)]));
    expect(verdict.pass).toBe(false);
    expect(verdict.ratio).toBeCloseTo(400 / 201);
  });

  it('misses, naming the partition, when low-memory settings wrote other rows or lost events', () => {
    const otherRows = evaluateInsertMemory(demoRun([insert('202401', 10, 'other'), insert('202402', 10)]));
    expect(otherRows).toMatchObject({ inexact: ['202401'], pass: false });
    const lostEvents = evaluateInsertMemory(demoRun([insert('202401', 10), insert('202402', 10, 'h', '99')]));
    expect(lostEvents).toMatchObject({ inexact: ['202402'], pass: false });
  });

  it('misses when no peak of the low-memory run was read', () => {
    const verdict = evaluateInsertMemory(demoRun([insert('202401', undefined), insert('202402', undefined)]));
    expect(verdict).toMatchObject({ lowMemoryPeakBytes: undefined, ratio: undefined, pass: false });
  });
});

describe('the insert-memory report', () => {
  it('shows each partition under each profile, the backfill peak ratio and PASS', () => {
    const text = renderInsertMemoryReport(demoRun([insert('202401', 100), insert('202402', 200)])).join('\n');
    expect(text).toMatch(/\| 202401 +\| 100 +\| 1 +\| 400\.0 MiB, 1\.00 s +\| 100\.0 MiB, 1\.00 s +\| 4\.00× +\| yes/);
    expect(text).toMatch(/backfill \(highest peak, rows\/s\) +\| 200 +\| +\| 400\.0 MiB, 100 rows\/s +\| 200\.0 MiB/);
    expect(text).toContain('low-memory peaks 2.00× lower than the defaults, same rows in every partition');
    expect(text).toContain('(target ≥ 2×, exact): PASS');
    expect(text).toContain('low-memory: max_threads=1');
  });

  it('says MISS and names the partitions whose rows differ', () => {
    const text = renderInsertMemoryReport(demoRun([insert('202401', 100, 'other'), insert('202402', 100)])).join('\n');
    expect(text).toMatch(/\| 202401 .*\| NO +\|/);
    expect(text).toContain('same rows NOT in 202401 (target ≥ 2×, exact): MISS');
  });
});

describe('the low-memory profile', () => {
  it('is the insertSettings of examples/events-daily-low-memory.yaml, which spill the GROUP BY', () => {
    const { lowMemory } = insertProfiles();
    expect(lowMemory.settings).toMatchObject({
      max_threads: 1,
      max_bytes_before_external_group_by: 100_000_000,
      collect_hash_table_stats_during_aggregation: 0,
    });
  });
});
