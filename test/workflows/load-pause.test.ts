import { randomUUID } from 'node:crypto';
import { pauseSignal, progressQuery, resumeSignal } from '../../src/shared/messages';
import { createDemoEventsTable, insertDemoEvents } from '../../examples/demo/sql/demo-events';
import { createHarness, exampleJob, type Harness } from '../helpers/backfill-harness';
import { freshDatabase } from '../helpers/chdb-env';
import { progressUntil } from '../helpers/progress-until';
import { targetAndSingleLevel } from '../helpers/target-digest';

describe('automatic pause under cluster load', () => {
  let h: Harness;
  let db: string;

  beforeAll(async () => {
    h = await createHarness();
    db = await freshDatabase(h.ch, 'load');
    const events = { database: db, name: 'events' };
    await h.ch.exec(createDemoEventsTable(events));
    await h.ch.exec(insertDemoEvents(events, '2024-01-01', 2, 40_000));
    // Many small parts in one source partition, kept apart: the load signal the embedded engine can cross.
    await h.ch.exec({ query: `SYSTEM STOP MERGES ${db}.events`, params: {} });
    for (let i = 0; i < 12; i++) await h.ch.exec(insertDemoEvents(events, '2024-01-01', 1, 50 + i));
  });
  afterAll(() => h.close());

  it('pauses itself naming the parts signal, a manual pause outlasts the automatic resume, then completes', async () => {
    const job = exampleJob(db, {
      chunkSize: 2_000,
      load: { maxPartsPerPartition: 10, checkIntervalSeconds: 0.5, cooldownSeconds: 1 },
    });
    await h.withWorker(async () => {
      const handle = await h.env.client.workflow.start('backfillWorkflow', {
        taskQueue: h.taskQueue,
        workflowId: `backfill-${randomUUID()}`,
        args: [{ job, from: '2024-01-01', to: '2024-02-29' }],
      });
      const paused = await progressUntil(handle, (p) => p.pause?.load !== undefined, 'a pause for load');
      expect(paused.phase).toBe('paused');
      expect(paused.pause?.load).toMatch(new RegExp(`^parts per partition \\d+ > 10 \\(${db}\\.events/202401\\)$`));
      expect(paused.partitions.map((p) => p.state)).toEqual(['pending', 'pending']);

      await handle.signal(pauseSignal, { reason: 'deploy' });
      await h.ch.exec({ query: `SYSTEM START MERGES ${db}.events`, params: {} });
      await h.ch.exec({ query: `OPTIMIZE TABLE ${db}.events FINAL`, params: {} });

      const manual = await progressUntil(handle, (p) => p.pause?.load === undefined, 'the automatic resume');
      expect(manual.phase).toBe('paused');
      expect(manual.pause?.manual).toBe('deploy');
      expect(manual.partitions.map((p) => p.state)).toEqual(['pending', 'pending']);

      await handle.signal(resumeSignal);
      await handle.result();
      const done = await handle.query(progressQuery);
      expect(done.phase).toBe('completed');
      expect(done.lastLoadReason).toMatch(/^parts per partition/);
    });
    const { target, expected } = await targetAndSingleLevel(h.ch, db);
    expect(target).toEqual(expected);
  });
});
