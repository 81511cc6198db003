import { randomUUID } from 'node:crypto';
import { WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import { approveUpdate, progressQuery } from '../../src/shared/messages';
import { partitionLockId } from '../../src/shared/partition-lock';
import type { TableRef } from '../../src/shared/table-ref';
import type { ViewRestateInputRaw, ViewRestateSummary } from '../../src/shared/view-restate-input';
import { createHarness, type Harness } from '../helpers/backfill-harness';
import { freshDatabase } from '../helpers/chdb-env';
import { progressUntil } from '../helpers/progress-until';
import { statementOf } from '../helpers/statement-of';
import { seedPypi } from '../helpers/view-jobs';

/*
 * A restate of a chain (daily_mv → daily → monthly_mv → monthly) writes monthly's partition from daily's partition
 * writer, so it holds monthly's partition lock too: while it waits for approval (daily's history was filled twice,
 * the restate halves it), another job writing monthly's same partition (a restate of monthly_mv) is refused with
 * `whenPartitionBusy: fail` and waits with `wait`, then runs once the chain's restate is done. Contents checked.
 */

describe('the locks of a restated chain', () => {
  let h: Harness;
  let db: string;
  let monthly: TableRef;
  const exec = (query: string) => h.ch.exec(statementOf({ query, params: {} }));

  const daySelect = (d: string) =>
    `SELECT toDate(timestamp) AS day, project, count() AS downloads FROM ${d}.pypi GROUP BY day, project`;
  const monthlySelect = (from: string) =>
    `SELECT toStartOfMonth(day) AS month, project, sum(downloads) AS downloads FROM ${from} GROUP BY month, project`;

  /** February's grouped totals of `inner` by `key` and project: groups, total and a digest. */
  const february = async (inner: string, key: 'day' | 'month') => {
    const [row] = await h.ch.rows(
      statementOf<{ groups: string; total: string; digest: string }>({
        query: [
          'SELECT toString(count()) AS groups, toString(sum(n)) AS total,',
          `  toString(groupBitXor(cityHash64(${key}, project, n))) AS digest`,
          `FROM (SELECT ${key}, project, sum(downloads) AS n FROM (${inner}) WHERE toYYYYMM(${key}) = 202402 GROUP BY ${key}, project)`,
        ].join('\n'),
        params: {},
      }),
    );
    return row;
  };

  const start = (view: string, safety: Record<string, unknown>): Promise<WorkflowHandle> => {
    const input: ViewRestateInputRaw = {
      job: {
        kind: 'view-restate',
        view: `${db}.${view}`,
        partitions: ['202402'],
        writesEndBefore: '2024-04-01T00:00:00Z',
        safety,
      },
    };
    return h.env.client.workflow.start('viewRestateWorkflow', {
      taskQueue: h.taskQueue,
      workflowId: `restate-${view}-${randomUUID()}`,
      args: [input],
    });
  };

  beforeAll(async () => {
    h = await createHarness();
    db = await freshDatabase(h.ch, 'restlocks');
    monthly = { database: db, name: 'monthly' };
    await seedPypi(h.ch, db, 20_000, '2024-01-01 00:00:00', '2024-04-01 00:00:00');
    await exec(
      `CREATE TABLE ${db}.daily (day Date, project String, downloads UInt64) ENGINE = MergeTree PARTITION BY toYYYYMM(day) ORDER BY (day, project)`,
    );
    await exec(
      `CREATE TABLE ${db}.monthly (month Date, project String, downloads UInt64) ENGINE = SummingMergeTree PARTITION BY toYYYYMM(month) ORDER BY (month, project)`,
    );
    await exec(`CREATE MATERIALIZED VIEW ${db}.monthly_mv TO ${db}.monthly AS ${monthlySelect(`${db}.daily`)}`);
    // daily's history filled twice (monthly fed both times): a restate halves both levels.
    await exec(`INSERT INTO ${db}.daily ${daySelect(db)}`);
    await exec(`INSERT INTO ${db}.daily ${daySelect(db)}`);
    await exec(`CREATE MATERIALIZED VIEW ${db}.daily_mv TO ${db}.daily AS ${daySelect(db)}`);
    h.serve();
  });

  afterAll(async () => {
    await h?.close();
  });

  it("holds the lower level's partition lock: another job on it is refused or waits until the restate is done", async () => {
    const monthlyBefore = await february(`SELECT * FROM ${db}.monthly`, 'month');
    const chain = await start('daily_mv', {});
    await progressUntil(chain, (p) => p.partitions[0]?.step === 'awaiting-approval', 'the chain awaiting approval');
    const lock = partitionLockId(monthly, '202402');
    const held = await h.env.client.workflow.getHandle(lock).describe();
    expect(held.type).toBe('partitionLockWorkflow');
    expect(held.status.name).toBe('RUNNING');
    expect(held.parentExecution?.workflowId).toBe(chain.workflowId);

    // whenPartitionBusy: fail: refused at once, naming the lock; monthly untouched.
    const refused = await start('monthly_mv', { whenPartitionBusy: 'fail' });
    const failure = await refused.result().then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(failure).toBeInstanceOf(WorkflowFailedError);
    expect(String((failure as WorkflowFailedError).cause?.message)).toContain(
      `1 of 1 partitions failed: 202402 (partition 202402 is being written by ${lock} (safety.whenPartitionBusy: fail))`,
    );
    expect(await february(`SELECT * FROM ${db}.monthly`, 'month')).toEqual(monthlyBefore);

    // whenPartitionBusy: wait: waits for the lock, and is still waiting while the chain awaits its answer.
    const waiting = await start('monthly_mv', { busyRecheckSeconds: 1 });
    await progressUntil(waiting, (p) => p.partitions[0]?.state === 'waiting', 'the other job waiting');
    // A few re-checks later (one a second) it still waits.
    await new Promise((r) => setTimeout(r, 3_000));
    expect((await waiting.query(progressQuery)).partitions[0]).toMatchObject({ state: 'waiting', waitingFor: lock });
    expect(await february(`SELECT * FROM ${db}.monthly`, 'month')).toEqual(monthlyBefore);

    await chain.executeUpdate(approveUpdate, { args: [{ partition: '202402' }] });
    const restated = (await chain.result()) as ViewRestateSummary;
    expect(restated.partitions.map((p) => p.partition)).toEqual(['202402']);
    const after = (await waiting.result()) as ViewRestateSummary;
    expect(after.partitions.map((p) => p.partition)).toEqual(['202402']);
    expect((await h.env.client.workflow.getHandle(lock).describe()).status.name).toBe('COMPLETED');

    // Both levels hold the query over the source once, after both jobs.
    expect(await february(`SELECT * FROM ${db}.daily`, 'day')).toEqual(await february(daySelect(db), 'day'));
    const fixedMonthly = await february(monthlySelect(`(${daySelect(db)})`), 'month');
    expect(await february(`SELECT * FROM ${db}.monthly`, 'month')).toEqual(fixedMonthly);
    expect(fixedMonthly).not.toEqual(monthlyBefore);
  });
});
