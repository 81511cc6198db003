import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { WorkflowHandle } from '@temporalio/client';
import type { ClickHouse } from '../../src/clickhouse/clickhouse';
import { formatSummary } from '../../src/cli/summary-table';
import type { BackfillInputRaw } from '../../src/shared/backfill-input';
import type { BackfillSummary } from '../../src/shared/backfill-results';
import type { JobSpecInput } from '../../src/shared/job-spec';
import { createDemoEventsTable, insertDemoEvents } from '../../examples/demo/sql/demo-events';
import { createHarness, exampleJob, type Harness } from '../helpers/backfill-harness';
import { freshDatabase } from '../helpers/chdb-env';
import { progressUntil } from '../helpers/progress-until';
import { runCliCaptured } from '../helpers/run-cli-captured';
import { targetAndSingleLevel } from '../helpers/target-digest';
import { statementOf } from '../helpers/statement-of';

/*
 * What the README promises about the live table, checked on its contents: a rebuilt range equals the source
 * (a partition the source lost is emptied, partitions outside the range keep their very parts), a shrinking
 * partition waits for an operator, and rollback restores exactly what a backfill replaced.
 */

interface Digest {
  rows: string;
  hash: string;
}

describe('the live table: whole ranges, a shrink guard and rollback', () => {
  let h: Harness;
  let ch: ClickHouse;
  let db: string;
  let stopWorker: () => void;
  let worker: Promise<unknown>;
  let jobFile: string;

  const job = (overrides: Partial<JobSpecInput> = {}) => exampleJob(db, overrides);
  const cli = (...args: string[]) =>
    runCliCaptured({ TEMPORAL_ADDRESS: h.env.address, TEMPORAL_TASK_QUEUE: h.taskQueue }, ...args);
  const start = (input: BackfillInputRaw): Promise<WorkflowHandle> =>
    h.env.client.workflow.start('backfillWorkflow', {
      taskQueue: h.taskQueue,
      workflowId: `live-${randomUUID()}`,
      args: [input],
    });
  const backfill = async (input: BackfillInputRaw) => (await start(input)).result() as Promise<BackfillSummary>;

  /** Row count and order-free hash of the target's rows in one month. */
  const monthDigest = async (month: number): Promise<Digest> => {
    const [row] = await ch.rows(
      statementOf<Digest>({
        query: `SELECT toString(count()) AS rows, toString(sum(cityHash64(*))) AS hash
              FROM ${db}.events_daily WHERE toYYYYMM(date) = {month:UInt32}`,
        params: { month },
      }),
    );
    return row;
  };
  /** The target's active parts in one month: the same names mean nobody touched it. */
  const partsOf = async (partition: string) =>
    ch.rows(
      statementOf<{ name: string }>({
        query: `SELECT name FROM system.parts WHERE database = {db:String} AND table = 'events_daily'
              AND partition_id = {partition:String} AND active ORDER BY name`,
        params: { db, partition },
      }),
    );
  const deleteSource = (where: string) =>
    ch.exec({ query: `ALTER TABLE ${db}.events DELETE WHERE ${where} SETTINGS mutations_sync = 2`, params: {} });
  const tablesLike = async (pattern: string) =>
    (
      await ch.rows(
        statementOf<{ name: string }>({
          query: 'SELECT name FROM system.tables WHERE database = {db:String} AND name LIKE {pattern:String}',
          params: { db, pattern },
        }),
      )
    ).map((t) => t.name);

  beforeAll(async () => {
    h = await createHarness();
    ch = h.ch;
    db = await freshDatabase(ch, 'live');
    const events = { database: db, name: 'events' };
    await ch.exec(createDemoEventsTable(events));
    await ch.exec(insertDemoEvents(events, '2024-01-01', 4, 40_000));
    jobFile = path.join(tmpdir(), `job-${randomUUID()}.json`);
    writeFileSync(jobFile, JSON.stringify(job()));
    const stopped = new Promise<void>((resolve) => (stopWorker = resolve));
    worker = h.withWorker(() => stopped);
    await backfill({ job: job(), from: '2024-01-01', to: '2024-04-30' });
  });

  afterAll(async () => {
    stopWorker?.();
    await worker;
    await h?.close();
  });

  it('a rebuilt range whose source lost a month empties that month, rebuilds the others and leaves the rest untouched', async () => {
    const aprilParts = await partsOf('202404');
    const aprilBefore = await monthDigest(202404);
    const februaryBefore = Number((await monthDigest(202402)).rows);
    expect(februaryBefore).toBeGreaterThan(0);
    await deleteSource('toYYYYMM(ts) = 202402');

    const summary = await backfill({ job: job(), from: '2024-01-15', to: '2024-03-31', allowShrink: true });

    expect(summary.partitions.map((p) => [p.partition, p.emptied, p.rowsBefore > 0])).toEqual([
      ['202401', false, true],
      ['202402', true, true],
      ['202403', false, true],
    ]);
    expect(summary.partitions[1].rowsBefore).toBe(februaryBefore);
    expect(formatSummary(summary)).toContain(
      `202402: source empty, ${februaryBefore.toLocaleString('en-US')} rows removed`,
    );
    expect((await monthDigest(202402)).rows).toBe('0');
    expect(await partsOf('202404')).toEqual(aprilParts);
    expect(await monthDigest(202404)).toEqual(aprilBefore);
    const digests = await targetAndSingleLevel(ch, db);
    expect(digests.target).toEqual(digests.expected);
  });

  it('a partition that would shrink waits for approval: reject keeps the live month, approve swaps it in', async () => {
    const marchBefore = await monthDigest(202403);
    await deleteSource('toYYYYMM(ts) = 202403 AND user_id % 2 = 0');
    const input = { job: job(), from: '2024-03-01', to: '2024-03-31' };

    const rejected = await start(input);
    const waiting = await progressUntil(
      rejected,
      (p) => p.partitions[0]?.step === 'awaiting-approval',
      'March awaiting approval',
    );
    expect(waiting.partitions[0].shrink?.liveRows).toBe(Number(marchBefore.rows));
    expect(waiting.partitions[0].shrink?.newRows).toBeLessThan(Number(marchBefore.rows) * 0.9);
    const status = await cli('status', rejected.workflowId);
    expect(status.out).toContain(
      `202403  running (awaiting approval: ${Number(marchBefore.rows).toLocaleString('en-US')} →`,
    );
    expect(await cli('reject', rejected.workflowId, '202403')).toMatchObject({ code: 0 });
    await expect(rejected.result()).rejects.toMatchObject({
      cause: {
        message: expect.stringMatching(/^1 of 1 partitions failed: 202403 \(partition 202403 rejected by an operator/),
      },
    });
    expect(await monthDigest(202403)).toEqual(marchBefore);
    expect(await tablesLike('%\\_v2\\_%')).toEqual([]);

    const approved = await start(input);
    await progressUntil(approved, (p) => p.partitions[0]?.step === 'awaiting-approval', 'March awaiting approval');
    expect(await cli('approve', approved.workflowId, '202403')).toMatchObject({ code: 0 });
    await approved.result();
    const digests = await targetAndSingleLevel(ch, db);
    expect(digests.target).toEqual(digests.expected);
  });

  it('rollback restores every partition a backfill replaced, empties one it created, and twice changes nothing more', async () => {
    const before = [await monthDigest(202403), await monthDigest(202404)];
    await ch.exec(insertDemoEvents({ database: db, name: 'events' }, '2024-03-01', 3, 9_000));
    const { workflowId } = await start({ job: job(), from: '2024-03-01', to: '2024-05-31' });
    const summary = (await h.env.client.workflow.getHandle(workflowId).result()) as BackfillSummary;
    expect(summary.partitions.map((p) => [p.partition, p.backupRows])).toEqual([
      ['202403', Number(before[0].rows)],
      ['202404', Number(before[1].rows)],
      ['202405', 0],
    ]);
    expect(await monthDigest(202404)).not.toEqual(before[1]);

    for (let i = 0; i < 2; i++) {
      const rolled = await cli('rollback', workflowId);
      expect(rolled).toMatchObject({ code: 0 });
      expect(rolled.out).toContain('202405: emptied (it did not exist before)');
      expect(rolled.out).toContain(`202403: restored, ${Number(before[0].rows).toLocaleString('en-US')} rows`);
      expect([await monthDigest(202403), await monthDigest(202404)]).toEqual(before);
      expect((await monthDigest(202405)).rows).toBe('0');
    }
    expect(await tablesLike('%\\_v2\\_%')).toEqual([]);
  });

  it('the backup is dropped when its retention ends, and a rollback after that fails naming it, changing nothing', async () => {
    const { workflowId } = await start({
      job: job({ safety: { backupRetention: '2s' } }),
      from: '2024-04-01',
      to: '2024-04-30',
    });
    const summary = (await h.env.client.workflow.getHandle(workflowId).result()) as BackfillSummary;
    const backup = summary.backup?.split('.')[1] ?? '';
    for (let i = 0; i < 100 && (await tablesLike(backup)).length > 0; i++) await new Promise((r) => setTimeout(r, 200));
    expect(await tablesLike(backup)).toEqual([]);

    const april = await monthDigest(202404);
    const rolled = await cli('rollback', workflowId);
    expect(rolled.code).toBe(1);
    expect(rolled.err).toContain(`backup table ${summary.backup} no longer exists`);
    expect(await monthDigest(202404)).toEqual(april);
  });

  it('fast validation of a job without a count() metric still checks the row count', async () => {
    const summary = await backfill({
      job: job({
        target: { table: `${db}.events_sums` },
        metrics: { daily_sum_ctr: 'sum(ctr)' },
        validation: { mode: 'fast' },
      }),
      from: '2024-01-01',
      to: '2024-01-31',
    });
    expect(summary.totals.checksPassed).toEqual({ 'rows = distinct keys and dates': 1 });
  });
});
