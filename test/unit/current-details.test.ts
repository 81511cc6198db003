import { currentDetailsOf } from '../../src/workflows/engine/current-details';
import { initialProgress, type PartitionProgress } from '../../src/shared/progress';

const partition = (id: string, extra: Partial<PartitionProgress>): PartitionProgress => ({
  id,
  state: 'pending',
  salt: 1,
  sourceRows: 10,
  ...extra,
});

describe("a job's current details (the Web UI's one line)", () => {
  it('says the phase and the partitions swapped of the total, and only the counts that are not zero', () => {
    const progress = { ...initialProgress(4), phase: 'running' as const, total: 3_650, done: 1_203 };
    expect(currentDetailsOf(progress)).toBe('running · 1,203 of 3,650 swapped');
  });

  it('counts building, waiting and awaiting-approval partitions, failures, and says why it is paused', () => {
    const progress = {
      ...initialProgress(4),
      phase: 'running' as const,
      total: 6,
      done: 1,
      failed: 1,
      pause: { manual: 'release window', load: 'parts 310 > 300' },
      partitions: [
        partition('202401', { state: 'swapped' }),
        partition('202402', { state: 'running', step: 'insert' }),
        partition('202403', { state: 'validated', step: 'swap' }),
        partition('202404', { state: 'running', step: 'awaiting-approval' }),
        partition('202405', { state: 'waiting', waitingFor: 'daily-events' }),
        partition('202406', { state: 'failed', error: 'x' }),
      ],
    };
    expect(currentDetailsOf(progress)).toBe(
      'running · 1 of 6 swapped · 2 building · 1 waiting for another job · 1 awaiting approval · 1 failed · ' +
        'paused by an operator: release window · paused for load: parts 310 > 300',
    );
  });
});
