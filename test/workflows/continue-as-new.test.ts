import { randomUUID } from 'node:crypto';
import type { BackfillSummary } from '../../src/shared/backfill-results';
import { progressQuery } from '../../src/shared/messages';
import { createDemoEventsTable, insertDemoEvents } from '../../src/sql/demo-events';
import { createHarness, exampleJob, type Harness } from '../helpers/backfill-harness';
import { freshDatabase } from '../helpers/chdb-env';
import { targetAndSingleLevel } from '../helpers/target-digest';

describe('a long backfill of many daily partitions', () => {
  let h: Harness;
  let db: string;

  beforeAll(async () => {
    // Temporal suggests continue-as-new after 150 history events instead of thousands.
    h = await createHarness(['--dynamic-config-value', 'limit.historyCount.suggestContinueAsNew=150']);
    db = await freshDatabase(h.ch, 'long');
    const events = { database: db, name: 'events' };
    await h.ch.exec(createDemoEventsTable(events));
    await h.ch.exec(insertDemoEvents(events, '2024-01-01', 1, 2_800));
  });
  afterAll(() => h.close());

  it('continues as new when Temporal suggests it, carrying progress, and completes every partition', async () => {
    const job = exampleJob(db, { partitionBy: 'day', chunkSize: 1_000 });
    const { summary, firstRunId, lastRunId, progress } = await h.withWorker(async () => {
      const handle = await h.env.client.workflow.start('backfillWorkflow', {
        taskQueue: h.taskQueue,
        workflowId: `backfill-${randomUUID()}`,
        args: [{ job, from: '2024-01-01', to: '2024-01-28' }],
      });
      const result = (await handle.result()) as BackfillSummary;
      return {
        summary: result,
        firstRunId: handle.firstExecutionRunId,
        lastRunId: (await handle.describe()).runId,
        progress: await handle.query(progressQuery),
      };
    });

    expect(lastRunId).not.toBe(firstRunId);
    expect(progress.continuedAsNew).toBeGreaterThanOrEqual(1);
    expect(summary.partitions).toHaveLength(28);
    expect(new Set(summary.partitions.map((p) => p.partition)).size).toBe(28);
    expect(summary.rowsRead).toBe(2_800);
    const { target, expected } = await targetAndSingleLevel(h.ch, db);
    expect(target).toEqual(expected);
  });
});
