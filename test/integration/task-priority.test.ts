import type { WorkflowHandle } from '@temporalio/client';
import { randomUUID } from 'node:crypto';
import { createDemoEventsTable, insertDemoEvents } from '../../examples/demo/sql/demo-events';
import { startBackfill } from '../../src/cli/kinds/aggregate';
import { createOrUpdateDailySchedule, dailyScheduleOptions } from '../../src/cli/commands/schedule';
import type { AggregateJob, JobSpecInput } from '../../src/shared/job-spec';
import { aggregateJobSchema } from '../../src/shared/job-spec';
import { freshDataPriority, TaskPriority } from '../../src/shared/task-priority';
import type { DailyResult } from '../../src/workflows/daily/daily-incremental-workflow';
import { createHarness, exampleJob, type Harness } from '../helpers/backfill-harness';
import { freshDatabase } from '../helpers/chdb-env';
import { statementOf } from '../helpers/statement-of';

/** Months of history the long backfill rebuilds, all at once (parallelism), on a worker running one activity. */
const HISTORY_MONTHS = 24;

/**
 * One task-queue partition, so the queue's order is the server's whole order, and no eager activities: an
 * activity handed straight back to a worker with a free slot never waits in the queue, whatever its priority.
 */
const ORDER_ONLY_ARGS = [
  '--dynamic-config-value',
  'matching.numTaskqueueReadPartitions=1',
  '--dynamic-config-value',
  'matching.numTaskqueueWritePartitions=1',
  '--dynamic-config-value',
  'system.enableActivityEagerExecution=false',
];

/** The dev server as Temporal ships it: tasks matched in arrival order, priority and fairness keys ignored. */
const PRIORITY_OFF_ARGS = [
  '--dynamic-config-value',
  'matching.useNewMatcher=false',
  '--dynamic-config-value',
  'matching.enableFairness=false',
];

const eventMs = (t: { seconds?: unknown; nanos?: number | null } | null | undefined): number =>
  Number(t?.seconds ?? 0) * 1000 + Math.floor((t?.nanos ?? 0) / 1e6);

interface Race {
  daily: DailyResult;
  /** Backfill partitions finished (their child workflow completed) before the daily run closed. */
  partitionsBeforeDaily: number;
  dailyClosedFirst: boolean;
}

/**
 * A history fill of {@link HISTORY_MONTHS} months of one target keeps a one-activity worker busy; once all its
 * partitions are queued, a daily run of another target starts. Returns how far the fill got before the daily run
 * closed, read from the two histories' server timestamps.
 */
async function raceDailyAgainstBackfill(h: Harness, db: string): Promise<Race> {
  const previousQueue = process.env.TEMPORAL_TASK_QUEUE;
  process.env.TEMPORAL_TASK_QUEUE = h.taskQueue;
  try {
    return await h.withWorker(
      async () => {
        const fill = await startBackfill(
          h.env.client,
          {
            job: exampleJob(db, {
              target: { table: `${db}.history_fill` },
              parallelism: HISTORY_MONTHS,
            } as Partial<JobSpecInput>),
            from: '2022-01-01',
            to: '2023-12-31',
          },
          `backfill-${randomUUID()}`,
        );
        await allChildrenStarted(fill, HISTORY_MONTHS);
        const dailyJob = aggregateJobSchema.parse(exampleJob(db, { target: { table: `${db}.fresh` } }));
        const daily = await h.env.client.workflow.start('dailyIncrementalWorkflow', {
          taskQueue: h.taskQueue,
          workflowId: `daily-${randomUUID()}`,
          args: [{ job: dailyJob, date: '2024-01-10', timezone: 'UTC' }],
          priority: freshDataPriority(dailyJob.target.table),
        });
        const dailyResult = (await daily.result()) as DailyResult;
        await fill.result();
        const dailyClosed = eventMs((await daily.fetchHistory()).events?.at(-1)?.eventTime);
        const fillEvents = (await fill.fetchHistory()).events ?? [];
        const childDone = fillEvents
          .filter((e) => e.childWorkflowExecutionCompletedEventAttributes)
          .map((e) => eventMs(e.eventTime));
        expect(childDone).toHaveLength(HISTORY_MONTHS);
        return {
          daily: dailyResult,
          partitionsBeforeDaily: childDone.filter((t) => t < dailyClosed).length,
          dailyClosedFirst: dailyClosed < eventMs(fillEvents.at(-1)?.eventTime),
        };
      },
      { slots: { maxConcurrentActivityTaskExecutions: 1 } },
    );
  } finally {
    if (previousQueue === undefined) delete process.env.TEMPORAL_TASK_QUEUE;
    else process.env.TEMPORAL_TASK_QUEUE = previousQueue;
  }
}

/** Waits until the backfill has started `n` partition workflows, i.e. all of its builds are queued or running. */
async function allChildrenStarted(handle: WorkflowHandle, n: number): Promise<void> {
  for (let i = 0; i < 1200; i++) {
    const events = (await handle.fetchHistory()).events ?? [];
    if (events.filter((e) => e.childWorkflowExecutionStartedEventAttributes).length >= n) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`the backfill never started its ${n} partitions`);
}

/** A database with 25 months of events and the daily run's target loaded for January 2024. */
async function prepare(h: Harness): Promise<string> {
  const db = await freshDatabase(h.ch, 'priority');
  await h.ch.exec(createDemoEventsTable({ database: db, name: 'events' }));
  await h.ch.exec(insertDemoEvents({ database: db, name: 'events' }, '2022-01-01', HISTORY_MONTHS + 1, 50_000));
  await h.backfill({ job: exampleJob(db, { target: { table: `${db}.fresh` } }), from: '2024-01-01', to: '2024-01-31' });
  return db;
}

async function rowsOf(h: Harness, db: string, table: string): Promise<number> {
  const [row] = await h.ch.rows(
    statementOf<{ n: string }>({
      query: 'SELECT count() AS n FROM {db:Identifier}.{t:Identifier}',
      params: { db, t: table },
    }),
  );
  return Number(row.n);
}

describe('task-queue priority on the dev server', () => {
  let h: Harness;
  let db: string;

  beforeAll(async () => {
    h = await createHarness(ORDER_ONLY_ARGS);
    db = await prepare(h);
  });
  afterAll(() => h.close());

  it('runs a daily run to the end while a long backfill of another target keeps the worker busy', async () => {
    const race = await raceDailyAgainstBackfill(h, db);

    expect(race.daily).toMatchObject({ day: '2024-01-10', partition: '202401' });
    expect(race.dailyClosedFirst).toBe(true);
    // Only what was already running or queued ahead at its own level finishes first; the fill waits for the rest.
    expect(race.partitionsBeforeDaily).toBeLessThan(HISTORY_MONTHS / 2);
    expect(await rowsOf(h, db, 'history_fill')).toBeGreaterThan(0);
  });

  it('keeps the priority of a daily schedule in its action', async () => {
    const job: AggregateJob = aggregateJobSchema.parse(exampleJob(db, { target: { table: `${db}.fresh` } }));
    const spec = {
      job,
      cron: '0 3 * * *',
      timezone: 'UTC',
      taskQueue: h.taskQueue,
      scheduleId: `daily-${randomUUID()}`,
    };
    expect(dailyScheduleOptions(spec).action.priority).toEqual({
      priorityKey: TaskPriority.fresh,
      fairnessKey: `${db}.fresh`,
    });
    await createOrUpdateDailySchedule(h.env.client, spec);
    const handle = h.env.client.schedule.getHandle(spec.scheduleId);
    try {
      const { action } = await handle.describe();
      expect(action.priority).toMatchObject({ priorityKey: TaskPriority.fresh, fairnessKey: `${db}.fresh` });
    } finally {
      await handle.delete();
    }
  });
});

describe('the same race with priority off', () => {
  let h: Harness;
  let db: string;

  beforeAll(async () => {
    h = await createHarness([...ORDER_ONLY_ARGS, ...PRIORITY_OFF_ARGS]);
    db = await prepare(h);
  });
  afterAll(() => h.close());

  it('leaves the daily run waiting behind the backfill', async () => {
    const race = await raceDailyAgainstBackfill(h, db);

    expect(race.daily).toMatchObject({ day: '2024-01-10', partition: '202401' });
    expect(race.partitionsBeforeDaily).toBeGreaterThanOrEqual(HISTORY_MONTHS / 2);
  });
});
