import { jobDefinitionHash } from '../../src/activities/engine/job-definition-hash';
import { aggregateJobSchema, type AggregateJob } from '../../src/shared/job-spec';

const job = (overrides: Record<string, unknown> = {}): AggregateJob =>
  aggregateJobSchema.parse({
    kind: 'aggregate',
    source: { table: 'events', timeColumn: 'ts' },
    target: { table: 'events_daily' },
    keys: ['user_id', 'host'],
    date: { expression: 'toDate(ts)' },
    metrics: { events: 'count()', ctr: 'sum(ctr)' },
    ...overrides,
  });
const source = { database: 'db', name: 'events' };

describe('jobDefinitionHash: what makes every partition "changed"', () => {
  const base = jobDefinitionHash(job(), source);

  it('is 16 hex digits, the same however the expressions are spaced or the metrics ordered', () => {
    expect(base).toMatch(/^[0-9a-f]{16}$/);
    expect(jobDefinitionHash(job({ date: { expression: 'toDate( ts )' } }), source)).toBe(base);
    expect(jobDefinitionHash(job({ metrics: { ctr: 'sum(ctr)', events: 'count( )' } }), source)).toBe(base);
  });

  it('ignores the settings that only shape how a run goes', () => {
    const tuned = job({
      name: 'tuned',
      chunkSize: 7,
      parallelism: 4,
      insertSettings: { max_threads: 1 },
      validation: { mode: 'fast' },
      safety: { maxShrink: 1 },
      ledger: { table: 'elsewhere' },
    });
    expect(jobDefinitionHash(tuned, source)).toBe(base);
  });

  it.each<[string, AggregateJob, typeof source]>([
    ['a metric', job({ metrics: { events: 'count()', ctr: 'sum(ctr * 2)' } }), source],
    ['a metric name', job({ metrics: { events: 'count()', clicks: 'sum(ctr)' } }), source],
    ['the keys', job({ keys: ['host', 'user_id'] }), source],
    ['the date', job({ date: { expression: 'toDate(ts + 3600)' } }), source],
    ['the date column', job({ date: { column: 'day', expression: 'toDate(ts)' } }), source],
    ['the partitioning', job({ partitionBy: 'day' }), source],
    ['the source table', job(), { database: 'other', name: 'events' }],
  ])('changes with %s', (_what, changed, from) => {
    expect(jobDefinitionHash(changed, from)).not.toBe(base);
  });
});
