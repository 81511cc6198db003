import { setParallelismUpdate } from '../../src/shared/messages';
import type { ViewBackfillSummary } from '../../src/shared/view-input';
import type { Harness } from '../helpers/backfill-harness';
import { freshDatabase } from '../helpers/chdb-env';
import { createContinueAsNewHarness, expectContinuedAsNew, runAcrossContinueAsNew } from '../helpers/continue-as-new';
import { hourlyTargetAndSource, pypiViewJob, seedPypi } from '../helpers/view-jobs';

describe('a view backfill of many daily partitions (the shared partition loop)', () => {
  let h: Harness;
  let db: string;

  beforeAll(async () => {
    h = await createContinueAsNewHarness();
    db = await freshDatabase(h.ch, 'viewcan');
    await seedPypi(h.ch, db, 3_000, '2024-01-01 00:00:00', '2024-01-21 00:00:00');
  });
  afterAll(() => h?.close());

  it('takes setParallelism, continues as new carrying its progress, and counts every row once', async () => {
    const job = pypiViewJob('pypi-downloads-per-day.yaml', db, {
      target: { table: `${db}.pypi_daily`, engine: 'SummingMergeTree', partitionBy: 'day' },
      view: { name: 'pypi_daily_mv' },
      fill: 'ranged',
      parallelism: 1,
    });
    let previous: number | undefined;
    const run = await runAcrossContinueAsNew<ViewBackfillSummary>(
      h,
      'viewBackfillWorkflow',
      { job },
      async (handle) => {
        previous = await handle.executeUpdate(setParallelismUpdate, { args: [2] });
      },
    );

    expect(previous).toBe(1);
    expectContinuedAsNew(run);
    const { summary, progress } = run;
    expect(progress.parallelism).toBe(2);
    expect(progress.cutoff).toBe(summary.cutoff);
    expect(summary.partitions).toHaveLength(20);
    expect(new Set(summary.partitions.map((p) => p.partition)).size).toBe(20);
    expect(summary.rowsRead).toBe(3_000);
    const { target, source } = await hourlyTargetAndSource(h.ch, db, 'pypi_daily');
    expect(target).toEqual(source);
  });
});
