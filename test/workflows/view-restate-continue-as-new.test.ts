import type { ViewRestateSummary } from '../../src/shared/view-restate-input';
import type { Harness } from '../helpers/backfill-harness';
import { freshDatabase } from '../helpers/chdb-env';
import { createContinueAsNewHarness, expectContinuedAsNew, runAcrossContinueAsNew } from '../helpers/continue-as-new';
import { statementOf } from '../helpers/statement-of';
import { rowsOf, seedPypi } from '../helpers/view-jobs';

/*
 * A restate of twenty daily partitions of a chain (daily_mv → daily → totals_mv → totals) continues as new; the run
 * that ends keeps every level's backup for its retention, although its carried plan lists no partition.
 */

describe('a view restate that continues as new', () => {
  let h: Harness;
  let db: string;
  const exec = (query: string) => h.ch.exec(statementOf({ query, params: {} }));
  const select = (filter: string) =>
    `SELECT toDate(timestamp) AS day, project, count() AS downloads FROM ${db}.pypi ${filter} GROUP BY day, project`;

  beforeAll(async () => {
    h = await createContinueAsNewHarness();
    db = await freshDatabase(h.ch, 'restatecan');
    await seedPypi(h.ch, db, 3_000, '2024-01-01 00:00:00', '2024-01-21 00:00:00');
    await exec(
      `CREATE TABLE ${db}.daily (day Date, project String, downloads UInt64) ENGINE = MergeTree PARTITION BY toYYYYMMDD(day) ORDER BY (day, project)`,
    );
    await exec(
      `CREATE TABLE ${db}.totals (day Date, downloads UInt64) ENGINE = SummingMergeTree PARTITION BY toYYYYMMDD(day) ORDER BY day`,
    );
    await exec(
      `CREATE MATERIALIZED VIEW ${db}.totals_mv TO ${db}.totals AS SELECT day, sum(downloads) AS downloads FROM ${db}.daily GROUP BY day`,
    );
    // The history as a wrong definition (wheels only) wrote it; the live view now counts every download.
    await exec(`INSERT INTO ${db}.daily ${select("WHERE type = 'bdist_wheel'")}`);
    await exec(`CREATE MATERIALIZED VIEW ${db}.daily_mv TO ${db}.daily AS ${select('')}`);
  });
  afterAll(() => h?.close());

  it("keeps every level's backup for its retention after continuing as new", async () => {
    const oldDaily = await rowsOf(h.ch, db, 'daily');
    const oldTotals = await rowsOf(h.ch, db, 'totals');
    const job = { kind: 'view-restate', view: `${db}.daily_mv`, writesEndBefore: '2024-02-01T00:00:00Z' };
    const run = await runAcrossContinueAsNew<ViewRestateSummary>(h, 'viewRestateWorkflow', {
      job,
      from: '2024-01-01',
      to: '2024-01-20',
    });
    expectContinuedAsNew(run);
    expect(run.summary.partitions).toHaveLength(20);
    const chain = run.progress.chain ?? [];
    expect(chain.map((l) => l.target)).toEqual([`${db}.totals`]);

    for (const [backup, oldRows] of [
      [run.summary.backup ?? '', oldDaily],
      [chain[0].backup, oldTotals],
    ] as const) {
      const retention = await h.env.client.workflow.getHandle(`backup-retention:${backup}`).describe();
      expect(retention.status.name).toBe('RUNNING');
      expect(retention.parentExecution?.runId).toBe(run.lastRunId);
      expect(await rowsOf(h.ch, db, backup.slice(db.length + 1))).toBe(oldRows);
    }
    expect(await rowsOf(h.ch, db, 'daily')).toBeGreaterThan(oldDaily);
  });
});
