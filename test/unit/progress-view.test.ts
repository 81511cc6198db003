import { formatProgress } from '../../src/cli/progress-view';
import { initialProgress, type PartitionProgress } from '../../src/shared/progress';

const day = (i: number): string => {
  const d = new Date(Date.UTC(2024, 0, 1 + i));
  return d.toISOString().slice(0, 10).replace(/-/g, '');
};

const swapped = (id: string, emptied = false): PartitionProgress => ({
  id,
  state: 'swapped',
  salt: 1,
  sourceRows: emptied ? 0 : 10,
  result: {
    partition: id,
    salt: 1,
    rowsRead: emptied ? 0 : 10,
    rowsWritten: emptied ? 0 : 8,
    rowsBefore: 5,
    emptied,
  },
});

describe('status of a long backfill', () => {
  it('lists every started partition of a short backfill', () => {
    const progress = { ...initialProgress(1), partitions: [swapped('202401'), swapped('202402')], total: 2 };
    const lines = formatProgress('b', progress).split('\n');
    expect(lines.filter((l) => l.startsWith('  2024'))).toHaveLength(2);
  });

  it('lists only the partitions worth a line once there are many, and says how many it left out', () => {
    const partitions: PartitionProgress[] = Array.from({ length: 365 }, (_, i) => swapped(day(i)));
    partitions[40] = swapped(day(40), true);
    partitions[41] = { id: day(41), state: 'failed', salt: 1, sourceRows: 10, error: 'boom' };
    partitions[42] = { id: day(42), state: 'waiting', salt: 1, sourceRows: 10, waitingFor: 'partition:d.t/20240212' };
    const lines = formatProgress('b', { ...initialProgress(4), partitions, total: 365 }).split('\n');
    expect(lines.filter((l) => l.startsWith('  2024'))).toEqual([
      '  20240210  swapped  salt 1, source empty, 5 rows removed',
      '  20240211  failed  salt 1: boom',
      '  20240212  waiting (waiting for partition:d.t/20240212)  salt 1',
    ]);
    expect(lines).toContain('  (362 swapped partitions not listed: see the grid)');
  });
});
