import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import { Context } from '@temporalio/activity';
import { WorkflowUpdateFailedError, type WorkflowHandle } from '@temporalio/client';
import type { StepPoint } from '../../src/activities';
import { confirmUpdate, pauseUpdate, resumeUpdate, setParallelismUpdate } from '../../src/shared/messages';
import { findTemporalCli } from '../../src/temporal/temporal-cli-path';
import { createDemoEventsTable, insertDemoEvents } from '../../examples/demo/sql/demo-events';
import { createHarness, exampleJob, type Harness } from '../helpers/backfill-harness';
import { freshDatabase } from '../helpers/chdb-env';
import { progressUntil } from '../helpers/progress-until';
import { runCliCaptured } from '../helpers/run-cli-captured';
import { pypiViewJob, seedPypi } from '../helpers/view-jobs';

const run = promisify(execFile);

/**
 * The operator commands as Updates (issue 21, point 1), on the real dev server: each is accepted, with the job's
 * answer, when it applies, and refused with its reason when it does not; a refused one leaves no event in the
 * workflow's history (only the accepted ones have a `WorkflowExecutionUpdateAccepted`).
 */
describe('operator commands that can say no', () => {
  let h: Harness;
  let db: string;
  let stopWorker: () => void;
  let worker: Promise<unknown>;
  /** Partitions whose insert waits at its start until `held` is emptied. */
  const held = new Set<string>();
  let releaseHeld: () => void = () => undefined;
  const onStep = async (point: StepPoint, partition: string): Promise<void> => {
    if (point !== 'insert:started' || !held.has(partition)) return;
    const signal = Context.current().cancellationSignal;
    await new Promise<void>((resolve) => {
      releaseHeld = resolve;
      signal.addEventListener('abort', () => resolve());
    });
  };

  const cli = (...args: string[]) =>
    runCliCaptured({ TEMPORAL_ADDRESS: h.env.address, TEMPORAL_TASK_QUEUE: h.taskQueue }, ...args);
  const temporal = (...args: string[]) =>
    run(findTemporalCli(), [...args, '--address', h.env.address, '--namespace', h.env.namespace ?? 'default']);
  const start = (type: string, input: unknown, id = `updates-${randomUUID()}`) =>
    h.env.client.workflow.start(type, { taskQueue: h.taskQueue, workflowId: id, args: [input] });
  const job = () => exampleJob(db, { chunkSize: 2_000, safety: { heartbeatTimeoutSeconds: 5 } });
  /** The names of the Updates the workflow accepted, in order, from its history. */
  const acceptedUpdates = async (handle: WorkflowHandle): Promise<string[]> => {
    const { events } = await handle.fetchHistory();
    return (events ?? []).flatMap((e) => {
      const name = e.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest?.input?.name;
      return name ? [name] : [];
    });
  };

  beforeAll(async () => {
    h = await createHarness();
    db = await freshDatabase(h.ch, 'updates');
    const events = { database: db, name: 'events' };
    await h.ch.exec(createDemoEventsTable(events));
    await h.ch.exec(insertDemoEvents(events, '2024-01-01', 3, 30_000));
    const stopped = new Promise<void>((resolve) => (stopWorker = resolve));
    worker = h.withWorker(() => stopped, { onStep });
  });
  afterAll(async () => {
    releaseHeld();
    stopWorker?.();
    await worker;
    await h?.close();
  });

  it('pause, resume, approve and setParallelism: answered when they apply, refused with the reason otherwise', async () => {
    held.add('202401');
    const handle = await start('backfillWorkflow', { job: job(), from: '2024-01-01', to: '2024-03-31' });
    const id = handle.workflowId;
    await progressUntil(handle, (p) => p.partitions[0]?.step === 'insert', 'the first insert running');

    const notPaused = await cli('resume', id);
    expect(notPaused).toMatchObject({ code: 1, err: `ch-backfill: ${id}: not paused` });
    const notWaiting = await cli('approve', id, '202401');
    expect(notWaiting).toMatchObject({
      code: 1,
      err: `ch-backfill: ${id}: 202401 is not awaiting approval (running: insert)`,
    });
    expect((await cli('reject', id, '209901')).err).toBe(`ch-backfill: ${id}: 209901 is not a partition of this job`);
    const lock = `partition:${db}.events_daily/202401`;
    // The partition workflow itself (as for a daily run's partition) refuses alike.
    expect((await cli('approve', lock)).err).toBe(`ch-backfill: ${lock}: 202401 is not awaiting approval`);

    const paused = await cli('pause', id, '--reason', 'merges');
    expect(paused).toMatchObject({
      code: 0,
      out: `${id} paused: no new partition or step starts until resume; 1 running INSERT finishes first`,
    });
    expect(await cli('pause', id)).toMatchObject({ code: 1, err: `ch-backfill: ${id}: already paused (merges)` });
    // The Temporal CLI's path, as docs/operating.md shows it: refused with the reason, exit code 1.
    const byTemporal = await temporal(
      'workflow',
      'update',
      'execute',
      '--workflow-id',
      id,
      '--name',
      'pause',
      '--input',
      '{"reason":"again"}',
    ).catch((err: { code: number; stderr: string }) => err);
    expect(byTemporal).toMatchObject({ code: 1, stderr: expect.stringContaining('already paused (merges)') });
    // The signal stays, and is never refused.
    await temporal('workflow', 'signal', '--workflow-id', id, '--name', 'pause', '--input', '{"reason":"load script"}');
    await progressUntil(handle, (p) => p.pause?.manual === 'load script', 'the signalled pause');

    expect(await cli('resume', id)).toMatchObject({ code: 0, out: `${id} resumed: partitions start again` });
    await expect(handle.executeUpdate(resumeUpdate)).rejects.toBeInstanceOf(WorkflowUpdateFailedError);
    await expect(handle.executeUpdate(setParallelismUpdate, { args: [0] })).rejects.toMatchObject({
      cause: { message: 'parallelism must be a whole number from 1 to 64' },
    });
    held.clear();
    releaseHeld();
    await handle.result();

    expect(await acceptedUpdates(handle)).toEqual(['pause', 'resume']);
  });

  it('approve is accepted for a partition awaiting approval, and swaps it in', async () => {
    await h.ch.exec({
      query: `ALTER TABLE ${db}.events DELETE WHERE toYYYYMM(ts) = 202403 AND user_id % 2 = 0 SETTINGS mutations_sync = 2`,
      params: {},
    });
    const handle = await start('backfillWorkflow', { job: job(), from: '2024-03-01', to: '2024-03-31' });
    await progressUntil(handle, (p) => p.partitions[0]?.step === 'awaiting-approval', 'March awaiting approval');

    const approved = await cli('approve', handle.workflowId, '202403');

    expect(approved).toMatchObject({ code: 0, out: `${handle.workflowId}: approved 202403: it is swapped in next` });
    await handle.result();
    expect(await acceptedUpdates(handle)).toEqual(['approve']);
  });

  it('confirm is answered once the snapshot was tried, and refused once there is nothing to confirm', async () => {
    await seedPypi(h.ch, db, 2_000, '2024-01-01 00:00:00', '2024-01-04 00:00:00');
    const job = pypiViewJob('pypi-downloads-per-day-snapshot.yaml', db, {
      target: { table: `${db}.pypi_daily`, engine: 'SummingMergeTree', partitionBy: 'day' },
      view: { name: 'pypi_daily_mv' },
    });
    const handle = await start('viewSnapshotWorkflow', { job });
    await progressUntil(handle, (p) => p.snapshot?.state === 'awaiting-confirm', 'waiting for confirm');
    // Paused, so the job is still running once its view exists.
    await handle.executeUpdate(pauseUpdate, { args: [{ reason: 'hold' }] });

    const snapshot = await handle.executeUpdate(confirmUpdate);

    expect(snapshot).toMatchObject({ state: 'inserts-may-resume', rows: 2_000, attempts: 1 });
    const again = await handle.executeUpdate(confirmUpdate).catch((err: WorkflowUpdateFailedError) => err);
    expect(again).toBeInstanceOf(WorkflowUpdateFailedError);
    expect((again as WorkflowUpdateFailedError).cause?.message).toBe(
      `nothing to confirm: the snapshot was taken and inserts into ${db}.pypi may resume`,
    );
    await handle.executeUpdate(resumeUpdate);
    await handle.result();
    expect(await acceptedUpdates(handle)).toEqual(['pause', 'confirm', 'resume']);
  });
});
