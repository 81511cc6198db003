import type { BackfillSummary } from '../../src/shared/backfill-results';
import { createDemoEventsTable, insertDemoEvents } from '../../examples/demo/sql/demo-events';
import { exampleJob, type Harness } from '../helpers/backfill-harness';
import { freshDatabase } from '../helpers/chdb-env';
import { createContinueAsNewHarness, expectContinuedAsNew, runAcrossContinueAsNew } from '../helpers/continue-as-new';
import { targetAndSingleLevel } from '../helpers/target-digest';

describe('a long backfill of many daily partitions', () => {
  let h: Harness;
  let db: string;

  beforeAll(async () => {
    h = await createContinueAsNewHarness();
    db = await freshDatabase(h.ch, 'long');
    const events = { database: db, name: 'events' };
    await h.ch.exec(createDemoEventsTable(events));
    await h.ch.exec(insertDemoEvents(events, '2024-01-01', 1, 2_800));
  });
  afterAll(() => h.close());

  it('continues as new when Temporal suggests it, carrying progress, and completes every partition', async () => {
    const job = exampleJob(db, { partitionBy: 'day', chunkSize: 1_000 });
    const run = await runAcrossContinueAsNew<BackfillSummary>(h, 'backfillWorkflow', {
      job,
      from: '2024-01-01',
      to: '2024-01-28',
    });

    expectContinuedAsNew(run);
    const { summary } = run;
    expect(summary.partitions).toHaveLength(28);
    expect(new Set(summary.partitions.map((p) => p.partition)).size).toBe(28);
    expect(summary.rowsRead).toBe(2_800);
    const { target, expected } = await targetAndSingleLevel(h.ch, db);
    expect(target).toEqual(expected);
  });
});
