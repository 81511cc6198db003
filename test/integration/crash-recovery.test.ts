import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { decodeTimeoutType } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { ClickHouse } from '../../src/clickhouse/clickhouse';
import type { BackfillInputRaw } from '../../src/shared/backfill-input';
import type { BackfillSummary } from '../../src/shared/backfill-results';
import type { RollbackInputRaw, RollbackSummary } from '../../src/shared/rollback-input';
import { createDemoEventsTable, insertDemoEvents } from '../../examples/demo/sql/demo-events';
import { partitionLockId } from '../../src/shared/partition-lock';
import { exampleJob } from '../helpers/backfill-harness';
import { CRASH_SAFETY, shadowTables, useCrashTest, type CrashTest, type WorkerProcess } from '../helpers/crash-workers';
import { statementOf } from '../helpers/statement-of';

/*
 * Workers here are separate processes that kill themselves with SIGKILL at one step point (see
 * test/fixtures/crash-worker.ts); a fresh worker then finishes the backfill. chDB lets one process at a time use
 * a data directory, so this file has its own, and opens it only while no worker runs.
 */

const db = 'crash_recovery';
const events = { database: db, name: 'events' };
// Small chunks salt the aggregation, which makes January's INSERT last seconds: the kill lands inside it.
const job = exampleJob(db, { chunkSize: 2_000, safety: CRASH_SAFETY });

interface Digest {
  rows: number;
  hash: string;
}

/**
 * The target's rows, or a from-scratch single-level GROUP BY of the source, for some months, in one comparable
 * form (float sums rounded: salting changes the order of summation, and so the last bits).
 */
async function digest(ch: ClickHouse, query: string, months: number[]): Promise<Digest> {
  const [row] = await ch.rows(
    statementOf<{ rows: string; hash: string }>({
      query: `SELECT count() AS rows, sum(cityHash64(*)) AS hash FROM (${query})`,
      params: { months },
    }),
  );
  return { rows: Number(row.rows), hash: row.hash };
}

const singleLevel = `SELECT user_id, host, device_ip, toDate(ts) AS date, count() AS daily_events,
    round(sum(ctr), 6) AS daily_sum_ctr, round(sum(ctr * ctr), 6) AS daily_sum_sq_ctr,
    arraySort(groupUniqArray(toHour(ts))) AS hours
  FROM ${db}.events WHERE toYYYYMM(ts) IN {months:Array(UInt32)} GROUP BY user_id, host, device_ip, date`;

const targetRows = `SELECT user_id, host, device_ip, date, daily_events, round(daily_sum_ctr, 6) AS daily_sum_ctr,
    round(daily_sum_sq_ctr, 6) AS daily_sum_sq_ctr, arraySort(hours) AS hours
  FROM ${db}.events_daily WHERE toYYYYMM(date) IN {months:Array(UInt32)}`;

/** The partition workflow (the lock) of one target partition. */
const lockOf = (partition: string): string => partitionLockId({ database: db, name: 'events_daily' }, partition);

interface ActivityAttempt {
  attempt: number;
  lastFailure: string | undefined;
}

/** Each completed or failed execution of `activity` in a workflow, with its attempt and the previous failure. */
async function activityAttempts(env: TestWorkflowEnvironment, workflowId: string, activity: string) {
  const history = await env.client.workflow.getHandle(workflowId).fetchHistory();
  const scheduledIds = new Set(
    (history.events ?? [])
      .filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === activity)
      .map((e) => String(e.eventId)),
  );
  return (history.events ?? []).flatMap((e): ActivityAttempt[] => {
    const started = e.activityTaskStartedEventAttributes;
    if (!started || !scheduledIds.has(String(started.scheduledEventId))) return [];
    const timeout = started.lastFailure?.timeoutFailureInfo?.timeoutType;
    return [
      { attempt: started.attempt ?? 0, lastFailure: timeout ? `${decodeTimeoutType(timeout)} timeout` : undefined },
    ];
  });
}

/** How many of `workflowId`'s workflow tasks timed out (a worker killed while it held one). */
async function workflowTaskTimeouts(env: TestWorkflowEnvironment, workflowId: string): Promise<number> {
  const history = await env.client.workflow.getHandle(workflowId).fetchHistory();
  return (history.events ?? []).filter((e) => e.workflowTaskTimedOutEventAttributes).length;
}

interface CrashRun<T = BackfillSummary> {
  workflowId: string;
  summary: T;
  killed: WorkerProcess;
  recovered: WorkerProcess;
  marker: string;
  /** The crashed partition right after the kill, before any worker touched the data again. */
  atCrash: { target: Digest; singleLevel: Digest; shadows: string[] };
}

/**
 * Runs a workflow (a backfill unless said otherwise) on a worker that kills itself at `crashAt`
 * (`<point>@<partition>`), checks the data directory while no worker runs, then lets a fresh worker finish the
 * workflow and stops it.
 */
async function backfillThroughCrash<T = BackfillSummary>(
  crash: CrashTest,
  input: BackfillInputRaw | RollbackInputRaw,
  crashAt: string,
  workflowType = 'backfillWorkflow',
): Promise<CrashRun<T>> {
  const name = `${crashAt.replace(/[:@]/g, '-')}-${workflowType}`;
  const workflowId = `crash-${crashAt.replace(/[:@]/g, '-')}-${randomUUID()}`;
  const run = await crash.runUntilKilled<T>(name, crashAt, (client, taskQueue) =>
    client.workflow.start(workflowType, { taskQueue, workflowId, args: [input] }),
  );

  const crashMonth = Number(crashAt.split('@')[1]);
  const atCrash = await crash.withClickHouse(async (ch) => ({
    target: await digest(ch, targetRows, [crashMonth]),
    singleLevel: await digest(ch, singleLevel, [crashMonth]),
    shadows: await shadowTables(ch, db),
  }));

  const { summary, recovered } = await crash.recover(name, run);
  return { workflowId, summary, killed: run.killed, recovered, marker: run.marker, atCrash };
}

/** The SIGKILL landed where asked, in the first worker, and the killed step ran again in the fresh one. */
function expectKilledAt<T>(run: CrashRun<T>, point: string, partition: string): void {
  expect(JSON.parse(readFileSync(run.marker, 'utf8'))).toEqual({ point, partition, pid: run.killed.child.pid });
  // The last point the killed worker reached is the crash point: nothing after it ran in that process.
  expect(run.killed.steps().at(-1)).toBe(`${point} ${partition}`);
  expect(run.recovered.steps()).toContain(`${point} ${partition}`);
  expect(
    run.recovered
      .steps()
      .filter((s) => s.endsWith(` ${partition}`))
      .at(-1),
  ).toBe(`cleanup:dropped ${partition}`);
}

/** The target holds exactly the single-level aggregation of those months, and no shadow table is left. */
async function expectTargetMatchesSource(crash: CrashTest, months: number[]): Promise<void> {
  await crash.withClickHouse(async (ch) => {
    expect(await digest(ch, targetRows, months)).toEqual(await digest(ch, singleLevel, months));
    expect(await shadowTables(ch, db)).toEqual([]);
  });
}

describe('crash recovery: a worker killed with SIGKILL mid-partition', () => {
  const crash = useCrashTest('crash', db, async (ch) => {
    await ch.exec(createDemoEventsTable(events));
    await ch.exec(insertDemoEvents(events, '2024-01-01', 1, 600_000));
    await ch.exec(insertDemoEvents(events, '2024-02-01', 2, 200_000));
  });

  it('a kill during the INSERT leaves the target untouched, and the retried insert fills it exactly once', async () => {
    const run = await backfillThroughCrash(
      crash,
      { job, from: '2024-01-01', to: '2024-01-31' },
      'insert:started@202401',
    );

    expectKilledAt(run, 'insert:started', '202401');
    expect(run.atCrash.target.rows).toBe(0);
    expect(run.atCrash.shadows).toEqual(['events_daily_v2_202401']);
    expect(await activityAttempts(crash.env, lockOf('202401'), 'buildValidatedShadow')).toEqual([
      { attempt: 2, lastFailure: 'HEARTBEAT timeout' },
    ]);
    // The job's heartbeat timeout, not the default, is what the build was scheduled with.
    const history = await crash.env.client.workflow.getHandle(lockOf('202401')).fetchHistory();
    const build = history.events?.find(
      (e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'buildValidatedShadow',
    );
    expect(Number(build?.activityTaskScheduledEventAttributes?.heartbeatTimeout?.seconds)).toBe(
      CRASH_SAFETY.heartbeatTimeoutSeconds,
    );
    expect(run.summary.rowsRead).toBe(600_000);
    await expectTargetMatchesSource(crash, [202401]);
  });

  it('a kill between the INSERT and the swap leaves the target untouched, and the partition is swapped in once', async () => {
    const run = await backfillThroughCrash(
      crash,
      { job, from: '2024-02-01', to: '2024-02-29' },
      'insert:finished@202402',
    );

    expectKilledAt(run, 'insert:finished', '202402');
    expect(run.atCrash.target.rows).toBe(0);
    expect(run.atCrash.shadows).toEqual(['events_daily_v2_202402']);
    expect(await activityAttempts(crash.env, lockOf('202402'), 'buildValidatedShadow')).toEqual([
      { attempt: 2, lastFailure: 'HEARTBEAT timeout' },
    ]);
    expect(run.summary.rowsRead).toBe(100_000);
    await expectTargetMatchesSource(crash, [202402]);
  });

  it('a kill after REPLACE PARTITION committed over rows already there repeats the swap: one copy, none stale', async () => {
    // Late events make February's target partition (filled by the previous test) stale.
    const stale = await crash.withClickHouse(async (ch) => {
      await ch.exec(insertDemoEvents(events, '2024-02-01', 1, 20_000));
      return { target: await digest(ch, targetRows, [202402]), singleLevel: await digest(ch, singleLevel, [202402]) };
    });
    expect(stale.target.rows).toBeGreaterThan(0);
    expect(stale.target).not.toEqual(stale.singleLevel);

    const run = await backfillThroughCrash(
      crash,
      { job, from: '2024-02-01', to: '2024-03-31' },
      'swap:replaced@202402',
    );

    expectKilledAt(run, 'swap:replaced', '202402');
    // The kill landed in the worst window: the target already holds the new partition, the swap never finished.
    expect(run.atCrash.target).toEqual(run.atCrash.singleLevel);
    expect(run.atCrash.shadows).toEqual(['events_daily_v2_202402']);
    // The swap's first try runs in the partition's workflow task (a local activity): that task timed out with the
    // killed worker, and the next worker repeated the swap on replay, with no swap activity needed.
    expect(await activityAttempts(crash.env, lockOf('202402'), 'swapPartition')).toEqual([]);
    expect(await workflowTaskTimeouts(crash.env, lockOf('202402'))).toBeGreaterThanOrEqual(1);
    expect(run.summary.partitions.map((p) => p.partition)).toEqual(['202402', '202403']);
    expect(run.summary.rowsRead).toBe(220_000);
    await expectTargetMatchesSource(crash, [202401, 202402, 202403]);
  });

  it('kills after the backup was kept and after a rollback restored it leave the partition as before the backfill', async () => {
    const before = await crash.withClickHouse(async (ch) => {
      const kept = await digest(ch, targetRows, [202403]);
      await ch.exec(insertDemoEvents(events, '2024-03-01', 1, 30_000));
      return kept;
    });
    expect(before.rows).toBeGreaterThan(0);

    const backfill = await backfillThroughCrash(
      crash,
      { job, from: '2024-03-01', to: '2024-03-31' },
      'backup:kept@202403',
    );
    expectKilledAt(backfill, 'backup:kept', '202403');
    expect(backfill.atCrash.target).toEqual(before);
    expect(await activityAttempts(crash.env, lockOf('202403'), 'backupPartition')).toEqual([
      { attempt: 2, lastFailure: 'HEARTBEAT timeout' },
    ]);
    await expectTargetMatchesSource(crash, [202403]);
    const [march] = backfill.summary.partitions;
    expect(march.backupRows).toBe(before.rows);

    const rollback: RollbackInputRaw = {
      backfill: backfill.workflowId,
      job,
      target: `${db}.events_daily`,
      backup: backfill.summary.backup ?? '',
      partitions: [{ id: '202403', rows: march.backupRows ?? 0 }],
    };
    const restored = await backfillThroughCrash<RollbackSummary>(
      crash,
      rollback,
      'swap:replaced@202403',
      'rollbackWorkflow',
    );
    expectKilledAt(restored, 'swap:replaced', '202403');
    expect(restored.atCrash.target).toEqual(before);
    expect(restored.summary.partitions).toEqual([{ partition: '202403', rows: before.rows, emptied: false }]);
    await crash.withClickHouse(async (ch) => {
      expect(await digest(ch, targetRows, [202403])).toEqual(before);
      expect(await shadowTables(ch, db)).toEqual([]);
    });
  });
});
