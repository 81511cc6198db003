import { dayBefore, nextDay } from '../../src/shared/days';
import { dailyJobSchema } from '../../src/shared/daily-job';
import { durationMs } from '../../src/shared/durations';
import { referenceFromArgument } from '../../src/shared/validate-input';

describe('the day a scheduled run loads', () => {
  it('is the day before the nominal time in the schedule time zone', () => {
    expect(dayBefore(new Date('2024-06-16T03:00:00Z'), 'UTC')).toBe('2024-06-15');
    // 23:30 UTC on the 15th is already the 16th in Paris (UTC+2 in summer).
    expect(dayBefore(new Date('2024-06-15T23:30:00Z'), 'Europe/Paris')).toBe('2024-06-15');
    expect(dayBefore(new Date('2024-06-15T23:30:00Z'), 'UTC')).toBe('2024-06-14');
  });

  it('crosses month and year boundaries', () => {
    expect(dayBefore(new Date('2024-03-01T03:00:00Z'), 'UTC')).toBe('2024-02-29');
    expect(dayBefore(new Date('2025-01-01T03:00:00Z'), 'UTC')).toBe('2024-12-31');
    expect(nextDay('2024-12-31')).toBe('2025-01-01');
  });
});

describe('daily settings', () => {
  it('reads durations and refuses anything else', () => {
    expect(durationMs('30s')).toBe(30_000);
    expect(durationMs('2h')).toBe(7_200_000);
    expect(durationMs('2 hours')).toBeUndefined();
    expect(dailyJobSchema.safeParse({ pollInterval: '0s' }).success).toBe(false);
  });

  it('accepts only structured readiness checks, never SQL', () => {
    expect(dailyJobSchema.parse({}).readiness).toEqual({ kind: 'next-day-rows' });
    expect(
      dailyJobSchema.safeParse({ readiness: { kind: 'watermark', table: 'etl.loads', column: 'until' } }).success,
    ).toBe(true);
    expect(dailyJobSchema.safeParse({ readiness: { kind: 'sql', condition: 'SELECT 1' } }).success).toBe(false);
    expect(dailyJobSchema.safeParse({ readiness: { kind: 'watermark', table: 'x; DROP', column: 'c' } }).success).toBe(
      false,
    );
  });
});

describe('a --reference argument', () => {
  it('is a table, a Parquet path, an http(s) URL or an s3 URL', () => {
    expect(referenceFromArgument('legacy.events_daily')).toEqual({ kind: 'table', table: 'legacy.events_daily' });
    expect(referenceFromArgument('/exports/2024/*.parquet')).toEqual({ kind: 'file', path: '/exports/2024/*.parquet' });
    expect(referenceFromArgument('https://h/x.parquet')).toEqual({ kind: 'url', path: 'https://h/x.parquet' });
    expect(referenceFromArgument('s3://b/x/*.parquet')).toEqual({ kind: 's3', path: 's3://b/x/*.parquet' });
  });
});
