import { createDemoEventsTable, insertDemoEvents } from '../../examples/demo/sql/demo-events';
import { createHarness, exampleJob, type Harness } from '../helpers/backfill-harness';
import { progressQuery } from '../../src/shared/messages';
import { freshDatabase } from '../helpers/chdb-env';
import { targetAndSingleLevel } from '../helpers/target-digest';

describe('backfill of a pre-aggregated table', () => {
  let h: Harness;
  let db: string;

  beforeAll(async () => {
    h = await createHarness();
    db = await freshDatabase(h.ch, 'backfill');
    const events = { database: db, name: 'events' };
    await h.ch.exec(createDemoEventsTable(events));
    await h.ch.exec(insertDemoEvents(events, '2024-01-01', 3, 300_000));
  });
  afterAll(() => h.close());

  it('fills the target with exactly the single-level aggregation, with salts sized from skewed keys', async () => {
    const summary = (await h.backfill({
      job: exampleJob(db, { chunkSize: 3_000 }),
      from: '2024-01-01',
      to: '2024-03-31',
    })) as { partitions: { partition: string; salt: number }[]; rowsRead: number };

    expect(summary.partitions.map((p) => p.partition)).toEqual(['202401', '202402', '202403']);
    expect(summary.rowsRead).toBe(300_000);
    expect(new Set(summary.partitions.map((p) => p.salt)).size).toBeGreaterThan(1);
    const { target, expected } = await targetAndSingleLevel(h.ch, db);
    expect(target).toEqual(expected);
  });

  it('re-running a backfill leaves exactly one copy of every row and no shadow table', async () => {
    const before = (await targetAndSingleLevel(h.ch, db)).target;
    await h.backfill({ job: exampleJob(db, { chunkSize: 3_000 }), from: '2024-02-10', to: '2024-02-11' });

    expect((await targetAndSingleLevel(h.ch, db)).target).toEqual(before);
    const shadows = await h.ch.rows({
      query: "SELECT name FROM system.tables WHERE database = {db:String} AND name LIKE '%\\_v2\\_%'",
      params: { db },
    });
    expect(shadows).toEqual([]);
  });

  it('runs at most `parallelism` partitions at a time', async () => {
    const progress = await h.withWorker(async () => {
      const handle = await h.env.client.workflow.start('backfillWorkflow', {
        taskQueue: h.taskQueue,
        workflowId: `backfill-window-${Date.now()}`,
        args: [{ job: exampleJob(db, { chunkSize: 3_000, parallelism: 1 }), from: '2024-01-01', to: '2024-03-31' }],
      });
      await handle.result();
      return handle.query(progressQuery);
    });

    const spans = progress.partitions.map((p) => [p.startedAt ?? NaN, p.finishedAt ?? NaN]).sort((a, b) => a[0] - b[0]);
    expect(spans).toHaveLength(3);
    for (let i = 1; i < spans.length; i++) expect(spans[i][0]).toBeGreaterThanOrEqual(spans[i - 1][1]);
  });
});
