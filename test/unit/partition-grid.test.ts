import { partitionGrid } from '../../src/cli/partition-grid';
import type { PartitionProgress, PartitionState } from '../../src/shared/progress';

const partition = (id: string, state: PartitionState = 'swapped'): PartitionProgress => ({
  id,
  state,
  salt: 1,
  sourceRows: 1,
});

/** Every day from `from` to `to` (inclusive) as a `YYYYMMDD` partition id. */
function days(from: string, to: string): string[] {
  const ids: string[] = [];
  for (let t = Date.parse(`${from}T00:00:00Z`); t <= Date.parse(`${to}T00:00:00Z`); t += 86_400_000) {
    ids.push(new Date(t).toISOString().slice(0, 10).replace(/-/g, ''));
  }
  return ids;
}

describe('partitionGrid', () => {
  it('draws monthly partitions one row per year, a letter per state, and a legend of the states present', () => {
    const months = ['202311', '202312', '202401', '202402', '202403'];
    const states: PartitionState[] = ['swapped', 'swapped', 'failed', 'running', 'pending'];
    const grid = partitionGrid(
      months.map((id, i) => partition(id, states[i])),
      false,
    );
    expect(grid.split('\n')).toEqual(['2023           ss', '2024 Fr.', '. pending  r running  s swapped  F failed']);
  });

  it('fits ten years of daily partitions on one screen: four rows of at most 92 days per year', () => {
    const ids = days('2015-01-01', '2024-12-31');
    expect(ids).toHaveLength(3653);
    const grid = partitionGrid(
      ids.map((id) => partition(id)),
      false,
    );
    const lines = grid.split('\n');
    expect(lines).toHaveLength(41);
    expect(lines[0]).toBe(`2015 Q1 ${'s'.repeat(90)}`);
    expect(lines[4]).toBe(`2016 Q1 ${'s'.repeat(91)}`);
    expect(lines[39]).toBe(`2024 Q4 ${'s'.repeat(92)}`);
    expect(Math.max(...lines.map((l) => l.length))).toBe(100);
    expect(lines[40]).toBe('s swapped');
  });

  it('marks emptied partitions apart and colours cells only when asked (a terminal)', () => {
    const emptied = { ...partition('202402'), result: { emptied: true } } as PartitionProgress;
    expect(partitionGrid([partition('202401'), emptied], false)).toBe('2024 se\ns swapped  e emptied');
    const coloured = partitionGrid([partition('202401', 'failed')], true);
    expect(coloured).toBe('2024 \x1b[31m■\x1b[0m\n\x1b[31m■\x1b[0m failed');
  });
});
