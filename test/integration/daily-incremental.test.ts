import { WorkflowFailedError, type Client } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { randomUUID } from 'node:crypto';
import { createOrUpdateDailySchedule } from '../../src/cli/commands/schedule';
import { dayBefore } from '../../src/shared/days';
import type { DailyInputRaw } from '../../src/shared/daily-input';
import { aggregateJobSchema, type JobSpecInput } from '../../src/shared/job-spec';
import { createDemoEventsTable, insertDemoEvents } from '../../examples/demo/sql/demo-events';
import type { DailyResult } from '../../src/workflows/daily/daily-incremental-workflow';
import { createHarness, exampleJob, type Harness } from '../helpers/backfill-harness';
import { freshDatabase } from '../helpers/chdb-env';
import { statementOf } from '../helpers/statement-of';

const fastDaily = { pollInterval: '1s', deadline: '10m' };

describe('daily incremental run', () => {
  let h: Harness;
  let db: string;
  const events = () => ({ database: db, name: 'events' });
  const job = (daily: JobSpecInput['daily'] = fastDaily) => exampleJob(db, { daily } as Partial<JobSpecInput>);

  /** Count and hash of the target's rows for days in [from, to), floats rounded (salting reorders the sums). */
  async function digest(from: string, to: string, table = 'events_daily') {
    const [row] = await h.ch.rows(
      statementOf<{ n: string; h: string }>({
        query: `SELECT count() AS n, toString(sum(cityHash64(user_id, host, device_ip, date, daily_events,
                round(daily_sum_ctr, 6), arraySort(hours)))) AS h
              FROM {db:Identifier}.{t:Identifier} WHERE date >= {from:Date} AND date < {to:Date}`,
        params: { db, t: table, from, to },
      }),
    );
    return row;
  }

  /** The single-level aggregation of the source for days in [from, to), in the same digest form. */
  async function sourceDigest(from: string, to: string) {
    const [row] = await h.ch.rows(
      statementOf<{ n: string; h: string }>({
        query: `SELECT count() AS n, toString(sum(cityHash64(user_id, host, device_ip, date, daily_events,
                round(daily_sum_ctr, 6), arraySort(hours)))) AS h
              FROM (SELECT user_id, host, device_ip, toDate(ts) AS date, count() AS daily_events,
                      sum(ctr) AS daily_sum_ctr, groupUniqArray(toHour(ts)) AS hours
                    FROM {db:Identifier}.events WHERE toDate(ts) >= {from:Date} AND toDate(ts) < {to:Date}
                    GROUP BY user_id, host, device_ip, date)`,
        params: { db, from, to },
      }),
    );
    return row;
  }

  /** Adds `rows` events spread over the one day `day`, with user ids distinct from the demo's. */
  async function addEventsOn(day: string, rows: number) {
    await h.ch.exec({
      query: `INSERT INTO {db:Identifier}.events (ts, user_id, host, device_ip, ctr)
              SELECT toDateTime({day:Date}) + number % 86400, 5000000 + number % 97, 'late.example',
                     toIPv4('10.1.1.1'), (number % 10) / 10 FROM numbers({rows:UInt64})`,
      params: { db, day, rows },
    });
  }

  const runDaily = (input: DailyInputRaw, workflowId = `daily-${randomUUID()}`) =>
    h.withWorker(() =>
      h.env.client.workflow.execute('dailyIncrementalWorkflow', { taskQueue: h.taskQueue, workflowId, args: [input] }),
    ) as Promise<DailyResult>;

  beforeAll(async () => {
    h = await createHarness();
    db = await freshDatabase(h.ch, 'daily');
    await h.ch.exec(createDemoEventsTable(events()));
    await h.ch.exec(insertDemoEvents(events(), '2024-01-01', 1, 20_000));
    await h.backfill({ job: exampleJob(db), from: '2024-01-01', to: '2024-01-31' });
  });
  afterAll(() => h.close());

  it('loads a day with late rows into its month, leaves the other days untouched, and is idempotent', async () => {
    const otherBefore = [await digest('2024-01-01', '2024-01-10'), await digest('2024-01-11', '2024-02-01')];
    await addEventsOn('2024-01-10', 500);

    const first = await runDaily({ job: job(), date: '2024-01-10', timezone: 'UTC' });
    const afterFirst = await digest('2024-01-10', '2024-01-11');
    const second = await runDaily({ job: job(), date: '2024-01-10', timezone: 'UTC' });

    expect(first).toMatchObject({ day: '2024-01-10', partition: '202401', readinessChecks: 1 });
    expect(first.checks.every((c) => c.ok)).toBe(true);
    expect(afterFirst).toEqual(await sourceDigest('2024-01-10', '2024-01-11'));
    expect(second.rowsWritten).toBe(first.rowsWritten);
    expect(await digest('2024-01-10', '2024-01-11')).toEqual(afterFirst);
    expect([await digest('2024-01-01', '2024-01-10'), await digest('2024-01-11', '2024-02-01')]).toEqual(otherBefore);
    const shadows = await h.ch.rows({
      query: "SELECT name FROM system.tables WHERE database = {db:String} AND name LIKE '%\\_v2\\_%'",
      params: { db },
    });
    expect(shadows).toEqual([]);
  });

  it('loads the first day of a month the target does not hold yet', async () => {
    await addEventsOn('2024-03-05', 300);
    await addEventsOn('2024-03-06', 10);

    const result = await runDaily({ job: job(), date: '2024-03-05', timezone: 'UTC' });

    expect(result).toMatchObject({ partition: '202403', sourceRows: 300 });
    expect(await digest('2024-03-01', '2024-04-01')).toEqual(await sourceDigest('2024-03-05', '2024-03-06'));
  });

  it('waits on a durable timer until the next day has rows, then loads the day', async () => {
    await addEventsOn('2024-04-01', 200);
    const workflowId = `daily-wait-${randomUUID()}`;
    const result = h.withWorker(async () => {
      const handle = await h.env.client.workflow.start('dailyIncrementalWorkflow', {
        taskQueue: h.taskQueue,
        workflowId,
        args: [{ job: job(), date: '2024-04-01', timezone: 'UTC' }],
      });
      await waitForTimer(h.env.client, workflowId);
      await addEventsOn('2024-04-02', 5);
      return (await handle.result()) as DailyResult;
    });

    const done = await result;
    expect(done.readinessChecks).toBeGreaterThan(1);
    expect(done.sourceRows).toBe(200);
    expect(await digest('2024-04-01', '2024-04-02')).toEqual(await sourceDigest('2024-04-01', '2024-04-02'));
  });

  it('fails clearly, naming the day, the check and the deadline, when the day is not ready in time', async () => {
    await addEventsOn('2024-05-01', 20);
    const err = await runDaily({
      job: job({ pollInterval: '1s', deadline: '2s' }),
      date: '2024-05-01',
      timezone: 'UTC',
    }).then(
      () => undefined,
      (e: unknown) => e,
    );

    expect(err).toBeInstanceOf(WorkflowFailedError);
    const cause = (err as WorkflowFailedError).cause as ApplicationFailure;
    expect(cause.type).toBe('DailyNotReady');
    expect(cause.message).toMatch(/day 2024-05-01 is not ready: "source rows at or after the next midnight exist"/);
    expect(cause.message).toContain('deadline of 2s');
    expect(await digest('2024-05-01', '2024-06-01')).toEqual({ n: '0', h: '0' });
  });

  it('a schedule takes the day from its nominal time, when triggered and when backfilled', async () => {
    const today = new Date();
    const yesterday = dayBefore(today, 'UTC');
    await h.ch.exec(insertDemoEvents(events(), yesterday, 1, 2_800));
    await addEventsOn('2024-06-15', 50);
    await addEventsOn('2024-06-16', 5);
    const scheduleId = `daily-test-${randomUUID()}`;
    const spec = {
      job: aggregateJobSchema.parse(job()),
      cron: '0 3 * * *',
      timezone: 'UTC',
      taskQueue: h.taskQueue,
      scheduleId,
    };
    const client = h.env.client;

    expect(await createOrUpdateDailySchedule(client, spec)).toBe('created');
    expect(await createOrUpdateDailySchedule(client, spec)).toBe('updated');
    const handle = client.schedule.getHandle(scheduleId);

    const results = await h.withWorker(async () => {
      await handle.trigger();
      const triggered = await scheduledResults(client, scheduleId, 1);
      await handle.backfill({ start: new Date('2024-06-16T03:00:00Z'), end: new Date('2024-06-16T03:00:01Z') });
      return [...triggered, ...(await scheduledResults(client, scheduleId, 2)).slice(1)];
    });
    await handle.delete();

    expect(results[0].nominalTime).toBeDefined();
    expect(results[0].day).toBe(dayBefore(new Date(results[0].nominalTime as string), 'UTC'));
    expect(results[1]).toMatchObject({ day: '2024-06-15', nominalTime: '2024-06-16T03:00:00.000Z', sourceRows: 50 });
  });
});

/** Waits until the workflow has started a timer (it found the day not ready and is sleeping). */
async function waitForTimer(client: Client, workflowId: string): Promise<void> {
  for (;;) {
    const history = await client.workflow.getHandle(workflowId).fetchHistory();
    if (history.events?.some((e) => e.timerStartedEventAttributes)) return;
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** The results of the first `count` runs a schedule started, oldest first. */
async function scheduledResults(client: Client, scheduleId: string, count: number): Promise<DailyResult[]> {
  for (;;) {
    const { info } = await client.schedule.getHandle(scheduleId).describe();
    if (info.recentActions.length >= count) {
      return Promise.all(
        info.recentActions
          .slice(0, count)
          .map((a) => client.workflow.getHandle(a.action.workflow.workflowId).result() as Promise<DailyResult>),
      );
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}
