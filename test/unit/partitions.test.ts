import {
  formatIsoDate,
  parseIsoDate,
  partitionFromId,
  partitionOf,
  partitionsCovering,
} from '../../src/shared/partitions';

describe('parseIsoDate', () => {
  it('reads a real calendar day as UTC midnight', () => {
    expect(parseIsoDate('2024-02-29')?.toISOString()).toBe('2024-02-29T00:00:00.000Z');
  });

  it.each(['2023-02-29', '2024-02-30', '2024-00-10', '2024-13-01', '2024-1-1', '2024/01/01', '2024-01-01 ', ''])(
    'refuses %j',
    (text) => {
      expect(parseIsoDate(text)).toBeUndefined();
    },
  );

  it('formats back to the same text', () => {
    expect(formatIsoDate(parseIsoDate('1999-12-31')!)).toBe('1999-12-31');
  });
});

describe('partitionOf, by month', () => {
  it.each([
    ['2024-01-01', { id: '202401', start: '2024-01-01', end: '2024-02-01' }],
    ['2024-01-31', { id: '202401', start: '2024-01-01', end: '2024-02-01' }],
    ['2024-02-29', { id: '202402', start: '2024-02-01', end: '2024-03-01' }],
    ['2023-02-15', { id: '202302', start: '2023-02-01', end: '2023-03-01' }],
    ['2023-12-31', { id: '202312', start: '2023-12-01', end: '2024-01-01' }],
    ['1970-01-01', { id: '197001', start: '1970-01-01', end: '1970-02-01' }],
  ])('%s lies in %j', (day, bounds) => {
    expect(partitionOf(day, 'month')).toEqual(bounds);
  });
});

describe('partitionOf, by day', () => {
  it.each([
    ['2024-02-28', { id: '20240228', start: '2024-02-28', end: '2024-02-29' }],
    ['2024-02-29', { id: '20240229', start: '2024-02-29', end: '2024-03-01' }],
    ['2023-02-28', { id: '20230228', start: '2023-02-28', end: '2023-03-01' }],
    ['2023-12-31', { id: '20231231', start: '2023-12-31', end: '2024-01-01' }],
  ])('%s is %j', (day, bounds) => {
    expect(partitionOf(day, 'day')).toEqual(bounds);
  });

  it('refuses a day that does not exist, naming it', () => {
    expect(() => partitionOf('2023-02-29', 'day')).toThrow('not a date: "2023-02-29"');
  });
});

describe('partitionFromId', () => {
  it.each([
    ['202402', 'month', { id: '202402', start: '2024-02-01', end: '2024-03-01' }],
    ['202312', 'month', { id: '202312', start: '2023-12-01', end: '2024-01-01' }],
    ['20240229', 'day', { id: '20240229', start: '2024-02-29', end: '2024-03-01' }],
    ['20231231', 'day', { id: '20231231', start: '2023-12-31', end: '2024-01-01' }],
  ] as const)('%s (%s) is %j', (id, granularity, bounds) => {
    expect(partitionFromId(id, granularity)).toEqual(bounds);
  });

  it('is the inverse of partitionOf for every day of a leap year, by month and by day', () => {
    for (let d = parseIsoDate('2024-01-01')!; d < parseIsoDate('2025-01-01')!; d = new Date(d.getTime() + 86_400_000)) {
      const day = formatIsoDate(d);
      for (const granularity of ['month', 'day'] as const) {
        const p = partitionOf(day, granularity);
        expect(partitionFromId(p.id, granularity)).toEqual(p);
      }
    }
  });

  it.each([
    ['2024', 'month'],
    ['2024011', 'month'],
    ['20240101', 'month'],
    ['2024-1', 'month'],
    ['abcdef', 'month'],
    ['202401', 'day'],
    ['2024010a', 'day'],
    ['-2024011', 'day'],
    ['', 'day'],
  ] as const)('refuses %j as a %s partition ID', (id, granularity) => {
    expect(() => partitionFromId(id, granularity)).toThrow(`not a ${granularity} partition ID: ${JSON.stringify(id)}`);
  });

  it.each([
    ['202413', 'month'],
    ['202400', 'month'],
    ['20230229', 'day'],
    ['20240431', 'day'],
  ] as const)('refuses %j, which has the right shape but names no %s', (id, granularity) => {
    expect(() => partitionFromId(id, granularity)).toThrow(RangeError);
  });
});

describe('partitionsCovering', () => {
  const ids = (from: string, to: string, granularity: 'month' | 'day') =>
    partitionsCovering(from, to, granularity).map((p) => p.id);

  it('covers a single day with the one month that holds it', () => {
    expect(partitionsCovering('2024-02-10', '2024-02-10', 'month')).toEqual([
      { id: '202402', start: '2024-02-01', end: '2024-03-01' },
    ]);
  });

  it('takes whole months at both ends of a range that starts and ends mid-month', () => {
    const covering = partitionsCovering('2024-01-15', '2024-03-02', 'month');
    expect(covering.map((p) => p.id)).toEqual(['202401', '202402', '202403']);
    expect(covering[0].start).toBe('2024-01-01');
    expect(covering[2].end).toBe('2024-04-01');
  });

  it('crosses a year boundary in order', () => {
    expect(ids('2023-11-30', '2024-02-01', 'month')).toEqual(['202311', '202312', '202401', '202402']);
  });

  it('leaves no gap and no overlap between consecutive partitions', () => {
    const covering = partitionsCovering('2022-06-01', '2025-05-31', 'month');
    expect(covering).toHaveLength(36);
    covering.slice(1).forEach((p, i) => expect(p.start).toBe(covering[i].end));
  });

  it('counts February 29 in a leap year, and not in other years, by day', () => {
    expect(ids('2024-02-27', '2024-03-01', 'day')).toEqual(['20240227', '20240228', '20240229', '20240301']);
    expect(ids('2023-02-27', '2023-03-01', 'day')).toEqual(['20230227', '20230228', '20230301']);
  });

  it('crosses a year boundary by day', () => {
    expect(ids('2023-12-30', '2024-01-02', 'day')).toEqual(['20231230', '20231231', '20240101', '20240102']);
  });

  it('covers a whole leap year with 366 days', () => {
    expect(partitionsCovering('2024-01-01', '2024-12-31', 'day')).toHaveLength(366);
  });
});
