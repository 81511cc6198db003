import { ApplicationFailure } from '@temporalio/common';
import type { ActivityDeps } from '../../src/activities/engine/deps';
import { inputResolvers } from '../../src/activities/service/resolve-input';
import { backfillInputSchema } from '../../src/shared/backfill-input';
import { describeIssues } from '../../src/shared/input-errors';
import { aggregateJobSpecSchema } from '../../src/shared/job-spec';
import { rollbackInputSchema } from '../../src/shared/rollback-input';
import { tableRefOf } from '../../src/shared/table-ref';

const job = (extra: Record<string, unknown> = {}) => ({
  kind: 'aggregate',
  source: { table: 'analytics.events', timeColumn: 'ts' },
  target: { table: 'analytics.events_daily' },
  keys: ['user_id'],
  date: { expression: 'toDate(ts)' },
  metrics: { daily_events: 'count()' },
  ...extra,
});

const problems = (parsed: { success: boolean; error?: unknown }) =>
  parsed.success ? undefined : describeIssues(parsed.error as Parameters<typeof describeIssues>[0]);

describe('the safety settings of a job', () => {
  it('default to waiting for a busy partition, asking past 10 % fewer rows, keeping backups 7 days and 20 s heartbeats', () => {
    expect(aggregateJobSpecSchema.parse(job()).safety).toEqual({
      whenPartitionBusy: 'wait',
      busyRecheckSeconds: 10,
      maxShrink: 0.1,
      backupRetention: '7d',
      heartbeatTimeoutSeconds: 20,
    });
  });

  it.each<[string, Record<string, unknown>, string]>([
    ['an unknown busy policy', { whenPartitionBusy: 'skip' }, 'safety.whenPartitionBusy: '],
    ['a shrink fraction above 1', { maxShrink: 1.5 }, 'safety.maxShrink: '],
    [
      'a retention that is not a duration',
      { backupRetention: 'a week' },
      'safety.backupRetention: "a week" is not a positive duration',
    ],
    ['a zero recheck interval', { busyRecheckSeconds: 0 }, 'safety.busyRecheckSeconds: '],
    [
      'a heartbeat timeout too short to heartbeat within',
      { heartbeatTimeoutSeconds: 1 },
      'safety.heartbeatTimeoutSeconds: ',
    ],
    ['an unknown safety field', { retention: '7d' }, 'safety: Unrecognized key: "retention"'],
  ])('refuse %s, naming the field', (_name, safety, message) => {
    expect(problems(aggregateJobSpecSchema.safeParse(job({ safety })))).toContain(message);
  });

  it('a backfill input defaults allowShrink to false and accepts true', () => {
    const base = { job: job(), from: '2024-01-01', to: '2024-01-31' };
    expect(backfillInputSchema.parse(base).allowShrink).toBe(false);
    expect(backfillInputSchema.parse({ ...base, allowShrink: true }).allowShrink).toBe(true);
  });
});

describe('the rollback input', () => {
  const input = (extra: Record<string, unknown> = {}) => ({
    backfill: 'backfill-x',
    job: job(),
    target: 'analytics.events_daily',
    backup: 'analytics.events_daily_backup_0a1b2c3d',
    partitions: [{ id: '202401', rows: 10 }],
    ...extra,
  });

  it('takes resolved tables and partitions with the rows their backup holds', () => {
    const parsed = rollbackInputSchema.parse(input());
    expect(tableRefOf(parsed.target)).toEqual({ database: 'analytics', name: 'events_daily' });
    expect(parsed.partitions).toEqual([{ id: '202401', rows: 10 }]);
  });

  it.each<[string, Record<string, unknown>, string]>([
    [
      'a target without its database',
      { target: 'events_daily' },
      'target: events_daily is not a plain table name written database.table',
    ],
    ['a quoted backup name', { backup: 'analytics.`x`' }, 'backup: "analytics.`x`" is not a plain table name'],
    ['no partitions', { partitions: [] }, 'partitions: '],
    [
      'a partition id that is not one',
      { partitions: [{ id: '2024-01', rows: 1 }] },
      'partitions.0.id: 2024-01 is not a partition id',
    ],
    ['negative rows', { partitions: [{ id: '202401', rows: -1 }] }, 'partitions.0.rows: '],
  ])('refuses %s, naming the field', (_name, extra, message) => {
    expect(problems(rollbackInputSchema.safeParse(input(extra)))).toContain(message);
  });
});

describe('resolving a workflow input where it enters', () => {
  // Parsing needs no ClickHouse; only a valid rollback input goes on to read the server.
  const noClickHouse = {} as ActivityDeps;

  it('applies the defaults of the current schema', async () => {
    const resolved = await inputResolvers(noClickHouse).resolveBackfillInput({
      job: job(),
      from: '2024-01-01',
      to: '2024-01-31',
    });
    expect(resolved).toMatchObject({ allowShrink: false, job: { parallelism: 1, safety: { maxShrink: 0.1 } } });
  });

  it('fails bad input non-retryably as InvalidInput, one line per field', async () => {
    const failure = await inputResolvers(noClickHouse)
      .resolveRollbackInput({ backfill: '', job: job(), target: 'x', backup: 'a.b', partitions: [] })
      .catch((err: unknown) => err);
    expect(failure).toBeInstanceOf(ApplicationFailure);
    expect(failure).toMatchObject({ type: 'InvalidInput', nonRetryable: true });
    expect((failure as Error).message.split('\n')).toEqual([
      'invalid rollbackWorkflow input:',
      'backfill: Too small: expected string to have >=1 characters',
      'target: x is not a plain table name written database.table',
      'partitions: Too small: expected array to have >=1 items',
    ]);
  });
});
