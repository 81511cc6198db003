import { confirmSignal } from '../../src/shared/messages';
import type { ViewSnapshotSummary } from '../../src/shared/snapshot-input';
import { insertPypiRows } from '../../examples/demo/sql/pypi-demo';
import type { Harness } from '../helpers/backfill-harness';
import { freshDatabase } from '../helpers/chdb-env';
import { createContinueAsNewHarness, expectContinuedAsNew, runAcrossContinueAsNew } from '../helpers/continue-as-new';
import { progressUntil } from '../helpers/progress-until';
import { hourlyTargetAndSource, pypiViewJob, seedPypi } from '../helpers/view-jobs';
import type { TableRef } from '../../src/shared/table-ref';
import { statementOf } from '../helpers/statement-of';

describe('a snapshot job of many daily partitions (the shared partition loop)', () => {
  let h: Harness;
  let db: string;
  let pypi: TableRef;

  beforeAll(async () => {
    h = await createContinueAsNewHarness();
    db = await freshDatabase(h.ch, 'snapcan');
    pypi = await seedPypi(h.ch, db, 3_000, '2024-01-01 00:00:00', '2024-01-21 00:00:00');
  });
  afterAll(() => h?.close());

  it('continues as new carrying its snapshot, which it drops only at the end; every row counted once', async () => {
    const job = pypiViewJob('pypi-downloads-per-day-snapshot.yaml', db, {
      target: { table: `${db}.pypi_daily`, engine: 'SummingMergeTree', partitionBy: 'day' },
      view: { name: 'pypi_daily_mv' },
      fill: 'ranged',
    });
    const run = await runAcrossContinueAsNew<ViewSnapshotSummary>(
      h,
      'viewSnapshotWorkflow',
      { job },
      async (handle) => {
        await progressUntil(handle, (p) => p.snapshot?.state === 'awaiting-confirm', 'waiting for confirm');
        await handle.signal(confirmSignal);
        await progressUntil(handle, (p) => p.snapshot?.state === 'inserts-may-resume', 'inserts may resume');
        // Inserts resume: into days the backfill fills from the snapshot.
        await h.ch.exec(insertPypiRows(pypi, 500, '2024-01-05 00:00:00', '2024-01-15 00:00:00'));
      },
    );

    expectContinuedAsNew(run);
    const { summary, progress } = run;
    expect(progress.snapshot).toMatchObject({ state: 'dropped', rows: 3_000, attempts: 1 });
    expect(summary.snapshotRows).toBe(3_000);
    expect(summary.partitions).toHaveLength(20);
    expect(summary.rowsRead).toBe(3_000);
    const { target, source } = await hourlyTargetAndSource(h.ch, db, 'pypi_daily');
    expect(target).toEqual(source);
    expect(Number(source.total)).toBe(3_500);
    const [left] = await h.ch.rows(
      statementOf<{ n: string }>({
        query:
          "SELECT toString(count()) AS n FROM system.tables WHERE database = {db:String} AND name LIKE '%snapshot%'",
        params: { db },
      }),
    );
    expect(left.n).toBe('0');
  });
});
