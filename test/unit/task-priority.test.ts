import {
  freshDataPriority,
  historyFillPriority,
  swapPriority,
  TaskPriority,
  targetFairnessKey,
} from '../../src/shared/task-priority';

describe('task priority', () => {
  it('puts operator work before fresh data and fresh data before history fills', () => {
    expect(TaskPriority.operator).toBeLessThan(TaskPriority.fresh);
    expect(TaskPriority.fresh).toBeLessThan(TaskPriority.historyFill);
  });

  it('keys fairness by the target, cut to the 64 bytes the server takes', () => {
    expect(historyFillPriority('db.events_daily')).toEqual({ priorityKey: 4, fairnessKey: 'db.events_daily' });
    expect(freshDataPriority('db.events_daily')).toEqual({ priorityKey: 2, fairnessKey: 'db.events_daily' });
    const long = `db.${'t'.repeat(100)}`;
    expect(targetFairnessKey(long)).toBe(long.slice(0, 64));
  });

  it('swaps at the fresh-data level, or sooner for work more urgent than that', () => {
    expect(swapPriority(undefined)).toEqual({ priorityKey: TaskPriority.fresh });
    expect(swapPriority({ priorityKey: TaskPriority.historyFill })).toEqual({ priorityKey: TaskPriority.fresh });
    expect(swapPriority({ priorityKey: TaskPriority.operator })).toEqual({ priorityKey: TaskPriority.operator });
  });
});
