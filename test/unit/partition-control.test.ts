import { PartitionControl } from '../../src/workflows/engine/partition-control';

describe('PartitionControl: what operators told one partition', () => {
  it('pause --now during a build cancels it and marks it interrupted; a plain pause does not', () => {
    const control = new PartitionControl();
    let cancelled = 0;
    control.enterInterruptible(() => cancelled++);
    control.pause({ reason: 'merges' });
    expect([control.paused, control.interrupted, cancelled]).toEqual([true, false, 0]);
    control.pause({ reason: 'incident', now: true });
    expect([control.paused, control.interrupted, cancelled]).toEqual([true, true, 1]);
    control.resume();
    expect(control.paused).toBe(false);
  });

  it('pause --now between builds cancels nothing, and a new build starts not interrupted', () => {
    const control = new PartitionControl();
    let cancelled = 0;
    control.enterInterruptible(() => cancelled++);
    control.leaveInterruptible();
    control.pause({ now: true });
    expect(cancelled).toBe(0);
    control.enterInterruptible(() => cancelled++);
    expect(control.interrupted).toBe(false);
  });

  it('the first answer to a shrink counts', () => {
    const control = new PartitionControl();
    control.decide('reject');
    control.decide('approve');
    expect(control.decision).toBe('reject');
  });

  it.each<[string, number | undefined, number, number, boolean]>([
    ['10 % fewer rows is allowed at maxShrink 0.1', 0.1, 1000, 900, false],
    ['more than 10 % fewer asks', 0.1, 1000, 899, true],
    ['an emptied partition asks', 0.1, 1000, 0, true],
    ['a growing partition never asks', 0.1, 1000, 5000, false],
    ['an empty live partition never asks', 0.1, 0, 0, false],
    ['maxShrink 1 never asks', 1, 1000, 0, false],
    ['maxShrink 0 asks for any loss', 0, 1000, 999, true],
    ['no guard (allowShrink, rollback) never asks', undefined, 1000, 0, false],
  ])('%s', (_name, maxShrink, live, next, asks) => {
    expect(new PartitionControl().needsApproval(maxShrink, live, next)).toBe(asks);
  });
});
