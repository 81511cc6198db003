import { randomUUID } from 'node:crypto';
import type { TableRef } from '../../src/shared/backfill-results';
import { progressQuery, setParallelismUpdate } from '../../src/shared/messages';
import type { ViewBackfillSummary } from '../../src/shared/view-input';
import { createPypiTable, insertPypiRows } from '../../src/sql/pypi-demo';
import { createHarness, type Harness } from '../helpers/backfill-harness';
import { freshDatabase } from '../helpers/chdb-env';
import { pypiViewJob, targetAndSource } from '../helpers/view-jobs';

describe('a view backfill of many daily partitions (the shared partition loop)', () => {
  let h: Harness;
  let db: string;
  let pypi: TableRef;

  beforeAll(async () => {
    // Temporal suggests continue-as-new after 150 history events instead of thousands.
    h = await createHarness(['--dynamic-config-value', 'limit.historyCount.suggestContinueAsNew=150']);
    db = await freshDatabase(h.ch, 'viewcan');
    pypi = { database: db, name: 'pypi' };
    await h.ch.exec(createPypiTable(pypi));
    await h.ch.exec(insertPypiRows(pypi, 3_000, '2024-01-01 00:00:00', '2024-01-21 00:00:00'));
  });
  afterAll(() => h?.close());

  it('takes setParallelism, continues as new carrying its progress, and counts every row once', async () => {
    const job = pypiViewJob('pypi-downloads-per-day.yaml', db, {
      target: { table: `${db}.pypi_daily`, engine: 'SummingMergeTree', partitionBy: 'day' },
      view: { name: 'pypi_daily_mv' },
      fill: 'ranged',
      parallelism: 1,
    });
    const { summary, firstRunId, lastRunId, progress, previous } = await h.withWorker(async () => {
      const handle = await h.env.client.workflow.start('viewBackfillWorkflow', {
        taskQueue: h.taskQueue,
        workflowId: `view-${randomUUID()}`,
        args: [{ job }],
      });
      const before = await handle.executeUpdate(setParallelismUpdate, { args: [2] });
      const result = (await handle.result()) as ViewBackfillSummary;
      return {
        summary: result,
        previous: before,
        firstRunId: handle.firstExecutionRunId,
        lastRunId: (await handle.describe()).runId,
        progress: await handle.query(progressQuery),
      };
    });

    expect(previous).toBe(1);
    expect(lastRunId).not.toBe(firstRunId);
    expect(progress.continuedAsNew).toBeGreaterThanOrEqual(1);
    expect(progress.parallelism).toBe(2);
    expect(progress.cutoff).toBe(summary.cutoff);
    expect(summary.partitions).toHaveLength(20);
    expect(new Set(summary.partitions.map((p) => p.partition)).size).toBe(20);
    expect(summary.rowsRead).toBe(3_000);
    const { target, source } = await targetAndSource(
      h.ch,
      db,
      'pypi_daily',
      'hour, project',
      'sum(count)',
      'toStartOfHour(timestamp) AS hour, project',
    );
    expect(target).toEqual(source);
  });
});
