import { insertDailyDemoEvents } from '../../examples/demo/sql/demo-events';

const placeholders = (query: string): string[] => [...query.matchAll(/\{(\w+):[^}]+\}/g)].map((m) => m[1]);

describe('insertDailyDemoEvents (the many-partitions bench source)', () => {
  it('generates rowsPerDay rows for each day, every value a parameter and every parameter used', () => {
    const s = insertDailyDemoEvents({ database: 'bench', name: 'events_days' }, '2015-01-01', 3_650, 300);
    expect(s.params).toMatchObject({ from: '2015-01-01', per_day: 300, rows: 1_095_000 });
    expect(new Set(placeholders(s.query))).toEqual(new Set(Object.keys(s.params)));
    expect(s.query).toContain('addDays(toDateTime({from:Date}), intDiv(number, {per_day:UInt32}))');
    expect(s.query).not.toMatch(/'2015/);
  });
});
