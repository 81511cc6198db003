import type { PartitionResult } from '../../src/shared/backfill-results';
import { initialProgress, type PartitionProgress } from '../../src/shared/progress';
import { PartitionLoopState, checkParallelism, withRates } from '../../src/workflows/engine/partition-loop-state';

const pending = (id: string, sourceRows = 100): PartitionProgress => ({ id, state: 'pending', salt: 1, sourceRows });

const result = (partition: string, checks: PartitionResult['checks'] = []): PartitionResult => ({
  partition,
  salt: 1,
  rowsRead: 100,
  rowsWritten: 10,
  rowsBefore: 0,
  emptied: false,
  checks,
  stepMs: { insert: 5 },
});

const setUp = (parallelism = 2) => {
  const progress = initialProgress(parallelism);
  progress.partitions = ['202401', '202402', '202403'].map((id) => pending(id));
  progress.total = 3;
  const [a, b, c] = progress.partitions;
  return { progress, state: new PartitionLoopState(progress), a, b, c };
};

describe('PartitionLoopState: the partition loop’s bookkeeping', () => {
  it('a slot is taken when a partition begins and freed when it finished, whatever its outcome', () => {
    const { state, a, b } = setUp(2);
    state.begin(a, 1);
    expect(state.hasSlot).toBe(true);
    state.begin(b, 2);
    expect(state.hasSlot).toBe(false);
    state.failed(b, 'boom');
    state.finished(b, 3);
    expect(state.hasSlot).toBe(true);
    expect(state.active).toBe(1);
  });

  it('a succeeded partition is swapped and counted; a failed one keeps its error and is counted as failed', () => {
    const { progress, state, a, b } = setUp();
    state.begin(a, 1);
    state.started(a);
    state.succeeded(a, result('202401'));
    state.finished(a, 9);
    state.begin(b, 2);
    state.failed(b, 'rows 9 ≠ 10');
    state.finished(b, 9);
    expect(progress).toMatchObject({ done: 1, failed: 1, rowsRead: 100, rowsWritten: 10 });
    expect(a).toMatchObject({ state: 'swapped', startedAt: 1, finishedAt: 9, step: undefined });
    expect(b).toMatchObject({ state: 'failed', error: 'rows 9 ≠ 10' });
    expect(state.pending().map((p) => p.id)).toEqual(['202403']);
  });

  it('a partition waiting for another writer names it, and runs again once its writer started', () => {
    const { state, a } = setUp();
    state.begin(a, 1);
    state.waiting(a, 'partition:db.t/202401');
    expect(a).toMatchObject({ state: 'waiting', waitingFor: 'partition:db.t/202401', step: undefined });
    state.started(a);
    expect(a).toMatchObject({ state: 'running', waitingFor: undefined, step: 'insert' });
  });

  it('setParallelism returns the previous value, and the new one decides the next slot', () => {
    const { state, a } = setUp(1);
    state.begin(a, 1);
    expect(state.hasSlot).toBe(false);
    expect(state.setParallelism(3)).toBe(1);
    expect(state.hasSlot).toBe(true);
    expect(() => state.setParallelism(0)).toThrow('parallelism must be a whole number from 1 to 64');
    expect(() => checkParallelism(1.5)).toThrow();
    expect(() => checkParallelism(65)).toThrow();
    expect(state.progress.parallelism).toBe(3);
  });

  it('after a cancel every partition still under way counts as cancelled; swapped ones stay swapped', () => {
    const { state, a, b, c } = setUp(3);
    state.begin(a, 1);
    state.succeeded(a, result('202401'));
    state.begin(b, 1);
    b.state = 'validated';
    state.begin(c, 1);
    expect(state.settleCancelled().map((p) => p.id)).toEqual(['202402', '202403']);
    expect(a.state).toBe('swapped');
  });

  it('a done partition keeps its outcome; its checks and step times go into the totals', () => {
    const { progress, state, a, b } = setUp();
    const checks = [{ name: 'rows', expected: '1', actual: '1', ok: true }];
    state.succeeded(a, result('202401', checks));
    state.succeeded(b, result('202402', checks));
    expect(a.result).toEqual({
      partition: '202401',
      salt: 1,
      rowsRead: 100,
      rowsWritten: 10,
      rowsBefore: 0,
      emptied: false,
      backupRows: undefined,
    });
    expect(progress.totals).toEqual({ checksPassed: { rows: 2 }, stepMs: { insert: 10 } });
  });

  it('the carry drops the timings of closed partitions and counts the continue-as-new', () => {
    const { progress, state, a, b } = setUp();
    state.begin(a, 1);
    state.succeeded(a, result('202401'));
    state.finished(a, 2);
    state.begin(b, 3);
    state.compactForCarry();
    expect([a.startedAt, a.finishedAt]).toEqual([undefined, undefined]);
    expect(b.startedAt).toBe(3);
    expect(progress.continuedAsNew).toBe(1);
  });

  it('the progress answer has rows/s and an ETA from the partitions not yet done, and says paused', () => {
    const { progress, state, a } = setUp();
    progress.phase = 'running';
    state.succeeded(a, result('202401'));
    progress.pause = { manual: 'maintenance' };
    const answer = withRates(progress, progress.startedAt + 2_000);
    expect(answer).toMatchObject({ phase: 'paused', rowsPerSecond: 50, etaMs: 4_000 });
    expect(progress.phase).toBe('running');
  });
});
