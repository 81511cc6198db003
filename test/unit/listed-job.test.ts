import { describeListedJob, sameTarget } from '../../src/cli/listed-job';

describe('what ch-backfill list shows of a job', () => {
  it("names each kind and takes the target a backfill recorded over its input's name", () => {
    const job = { kind: 'aggregate', target: { table: 'events_daily' } };
    expect(describeListedJob('backfillWorkflow', { job }, 'analytics.events_daily', ['202401', '202402'])).toEqual({
      kind: 'backfill',
      target: 'analytics.events_daily',
      detail: '2 partitions 202401…202402',
    });
    expect(describeListedJob('backfillWorkflow', { job }, undefined, [])).toEqual({
      kind: 'backfill',
      target: 'events_daily',
      detail: '',
    });
  });

  it('reads the target and detail of every other kind from its start input', () => {
    const job = { target: { table: 'db.t' } };
    const listed = (type: Parameters<typeof describeListedJob>[0], input: unknown) =>
      describeListedJob(type, input, undefined, []);
    expect(listed('dailyIncrementalWorkflow', { job, date: '2024-02-10', timezone: 'UTC' })).toEqual({
      kind: 'daily',
      target: 'db.t',
      detail: 'day 2024-02-10',
    });
    expect(listed('dailyIncrementalWorkflow', { job, timezone: 'UTC' }).detail).toBe('scheduled day');
    expect(listed('viewBackfillWorkflow', { job })).toEqual({ kind: 'view', target: 'db.t', detail: '' });
    expect(listed('viewSnapshotWorkflow', { job })).toEqual({ kind: 'snapshot', target: 'db.t', detail: '' });
    expect(listed('importWorkflow', { job })).toEqual({ kind: 'import', target: 'db.t', detail: '' });
    expect(listed('rollbackWorkflow', { backfill: 'backfill-1', job, target: 'db.resolved' })).toEqual({
      kind: 'rollback',
      target: 'db.resolved',
      detail: 'of backfill-1',
    });
    expect(listed('validateWorkflow', { job, reference: { kind: 'table', table: 'legacy.t' } }).detail).toBe(
      'against legacy.t',
    );
    expect(listed('validateWorkflow', { job, reference: { kind: 's3', path: 's3://b/*.parquet' } }).detail).toBe(
      'against s3://b/*.parquet',
    );
  });

  it('shows ? for a target an input does not name', () => {
    expect(describeListedJob('importWorkflow', undefined, undefined, []).target).toBe('?');
    expect(describeListedJob('importWorkflow', { job: { target: { table: 3 } } }, undefined, []).target).toBe('?');
  });

  it('matches --target with or without the database, never another database', () => {
    expect(sameTarget('analytics.events_daily', 'analytics.events_daily')).toBe(true);
    expect(sameTarget('events_daily', 'analytics.events_daily')).toBe(true);
    expect(sameTarget('analytics.events_daily', 'events_daily')).toBe(true);
    expect(sameTarget('other.events_daily', 'analytics.events_daily')).toBe(false);
    expect(sameTarget('events', 'analytics.events_daily')).toBe(false);
  });
});
