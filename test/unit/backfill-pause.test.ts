import type { PauseRequest } from '../../src/shared/messages';
import type { PauseState } from '../../src/shared/progress';
import { BackfillPause } from '../../src/workflows/engine/backfill-pause';

describe('BackfillPause: manual and load pauses of a backfill', () => {
  const setUp = () => {
    const state: PauseState = {};
    const told: (PauseRequest | undefined)[] = [];
    return { state, told, pause: new BackfillPause(state, (r) => told.push(r)) };
  };

  it('tells the partitions once when it becomes paused and once when it resumes', () => {
    const { state, told, pause } = setUp();
    pause.set('load', 'parts per partition 412 > 300');
    pause.set('load', 'parts per partition 420 > 300');
    expect(pause.paused).toBe(true);
    expect(state.since).toEqual(expect.any(Number));
    pause.set('load', undefined);
    expect(told).toEqual([{ reason: 'parts per partition 412 > 300', now: false }, undefined]);
    expect(state.since).toBeUndefined();
  });

  it('a manual pause outlasts an automatic resume, and its reason is the one told', () => {
    const { told, pause } = setUp();
    pause.set('load', 'merges 70 > 64');
    pause.set('manual', 'maintenance');
    pause.set('load', undefined);
    expect(pause.paused).toBe(true);
    expect(pause.reason).toBe('maintenance');
    expect(told).toEqual([{ reason: 'merges 70 > 64', now: false }]);
  });

  it('pause --now while already paused is told again, so running builds stop', () => {
    const { told, pause } = setUp();
    pause.set('manual', 'slow');
    pause.set('manual', 'stop now', true);
    expect(told).toEqual([
      { reason: 'slow', now: false },
      { reason: 'stop now', now: true },
    ]);
  });
});
