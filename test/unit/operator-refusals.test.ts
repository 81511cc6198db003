import type { IngestionPauseProgress, PartitionProgress, SnapshotProgress } from '../../src/shared/progress';
import {
  approvalRefusal,
  confirmRefusal,
  pauseRefusal,
  restateConfirmRefusal,
  resumeRefusal,
} from '../../src/workflows/engine/operator-refusals';

describe('operator-refusals: why a command does not apply to a job as it stands', () => {
  const entry = (over: Partial<PartitionProgress>): PartitionProgress => ({
    id: '202401',
    state: 'running',
    salt: 1,
    sourceRows: 10,
    ...over,
  });

  it('pause: refused once an operator paused, unless --now still has an INSERT to cancel', () => {
    expect(pauseRefusal(undefined, false, 0)).toBeUndefined();
    expect(pauseRefusal({ load: 'parts 400 > 300' }, false, 1)).toBeUndefined();
    expect(pauseRefusal({ manual: 'merges' }, false, 1)).toBe('already paused (merges)');
    expect(pauseRefusal({ manual: 'merges' }, true, 1)).toBeUndefined();
    expect(pauseRefusal({ manual: 'merges' }, true, 0)).toBe(
      'already paused (merges): no INSERT is running for --now to cancel',
    );
  });

  it('resume: refused unless an operator paused; a pause for load lifts itself', () => {
    expect(resumeRefusal({ manual: 'merges' })).toBeUndefined();
    expect(resumeRefusal({})).toBe('not paused');
    expect(resumeRefusal({ load: 'parts 400 > 300' })).toBe(
      'not paused by an operator: paused for cluster load (parts 400 > 300), which resumes by itself after its cool-down',
    );
  });

  it('approve/reject: refused unless the partition awaits approval and has no answer yet', () => {
    const waiting = entry({ step: 'awaiting-approval' });
    expect(approvalRefusal('202401', waiting, undefined)).toBeUndefined();
    expect(approvalRefusal('202401', waiting, 'approve')).toBe('202401 was already approved');
    expect(approvalRefusal('202401', entry({ step: 'insert' }), undefined)).toBe(
      '202401 is not awaiting approval (running: insert)',
    );
    expect(approvalRefusal('202401', entry({ state: 'swapped' }), undefined)).toBe(
      '202401 is not awaiting approval (swapped)',
    );
    expect(approvalRefusal('209901', undefined, undefined)).toBe('209901 is not a partition of this job');
    expect(approvalRefusal(undefined, undefined, undefined)).toBe('name the partition, e.g. 202401');
  });

  it('confirm: refused unless a snapshot job awaits a confirm it has not received', () => {
    const s = (state: SnapshotProgress['state']): SnapshotProgress => ({
      state,
      source: 'db.pypi',
      table: 'db.pypi_snapshot_1',
      attempts: 0,
    });
    expect(confirmRefusal('waiting', s('awaiting-confirm'), false)).toBeUndefined();
    expect(confirmRefusal('planning', undefined, false)).toBe(
      'nothing to confirm yet: the job is still checking its plan',
    );
    expect(confirmRefusal('waiting', s('awaiting-confirm'), true)).toBe(
      'already confirmed: the snapshot db.pypi_snapshot_1 is being taken; keep inserts into db.pypi paused',
    );
    expect(confirmRefusal('running', s('inserts-may-resume'), true)).toBe(
      'nothing to confirm: the snapshot was taken and inserts into db.pypi may resume',
    );
  });

  it('confirm to a restate: taken only while it waits for one, else refused with the reason', () => {
    const s = (state: IngestionPauseProgress['state']): IngestionPauseProgress => ({
      state,
      source: 'db.pypi',
      partitions: ['202612'],
    });
    expect(restateConfirmRefusal('waiting', s('awaiting-confirm'), false)).toBeUndefined();
    expect(restateConfirmRefusal('planning', undefined, false)).toBe(
      'nothing to confirm yet: the restate is still checking its plan',
    );
    expect(restateConfirmRefusal('running', undefined, false)).toBe(
      'nothing to confirm: no partition of this restate needs ingestion paused',
    );
    expect(restateConfirmRefusal('running', s('restating-before-pause'), false)).toContain(
      'nothing to confirm yet: the partitions the live view writes no more into are restated first',
    );
    expect(restateConfirmRefusal('waiting', s('awaiting-confirm'), true)).toBe(
      'already confirmed: keep ingestion into db.pypi paused',
    );
    expect(restateConfirmRefusal('running', s('restating'), true)).toBe(
      'already confirmed: restating 202612; keep ingestion into db.pypi paused',
    );
    expect(restateConfirmRefusal('completed', s('ingestion-may-resume'), true)).toBe(
      'nothing to confirm: ingestion into db.pypi may resume',
    );
  });
});
