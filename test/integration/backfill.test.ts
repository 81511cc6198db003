import type { ClickHouse } from '../../src/clickhouse/clickhouse';
import { createDemoEventsTable, insertDemoEvents } from '../../src/sql/demo-events';
import { createHarness, exampleJob, type Harness } from '../helpers/backfill-harness';
import { freshDatabase } from '../helpers/chdb-env';

/**
 * The target's rows, or a from-scratch single-level GROUP BY of the source, in one comparable form (float sums
 * rounded: salting changes the order of summation, and so the last bits).
 */
async function digest(ch: ClickHouse, query: string): Promise<unknown[]> {
  return ch.rows({ query: `SELECT count() AS n, sum(cityHash64(*)) AS h FROM (${query})`, params: {} });
}

const singleLevel = (db: string) =>
  `SELECT user_id, host, device_ip, toDate(ts) AS date, count() AS daily_events, round(sum(ctr), 6) AS daily_sum_ctr,
     round(sum(ctr * ctr), 6) AS daily_sum_sq_ctr, arraySort(groupUniqArray(toHour(ts))) AS hours
   FROM ${db}.events GROUP BY user_id, host, device_ip, date`;

const targetRows = (db: string) =>
  `SELECT user_id, host, device_ip, date, daily_events, round(daily_sum_ctr, 6) AS daily_sum_ctr,
     round(daily_sum_sq_ctr, 6) AS daily_sum_sq_ctr, arraySort(hours) AS hours
   FROM ${db}.events_daily`;

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
    expect(await digest(h.ch, targetRows(db))).toEqual(await digest(h.ch, singleLevel(db)));
  });

  it('re-running a backfill leaves exactly one copy of every row and no shadow table', async () => {
    const before = await digest(h.ch, targetRows(db));
    await h.backfill({ job: exampleJob(db, { chunkSize: 3_000 }), from: '2024-02-10', to: '2024-02-11' });

    expect(await digest(h.ch, targetRows(db))).toEqual(before);
    const shadows = await h.ch.rows({
      query: "SELECT name FROM system.tables WHERE database = {db:String} AND name LIKE '%\\_v2\\_%'",
      params: { db },
    });
    expect(shadows).toEqual([]);
  });
});
