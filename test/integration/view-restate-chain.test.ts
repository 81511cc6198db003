import { writeFileSync } from 'node:fs';
import type { ViewRestateInputRaw } from '../../src/shared/view-restate-input';
import type { TableRef } from '../../src/shared/table-ref';
import { createHarness, type Harness } from '../helpers/backfill-harness';
import { freshDatabase } from '../helpers/chdb-env';
import { runCliOn } from '../helpers/run-cli-captured';
import { statementOf } from '../helpers/statement-of';
import {
  createDaily,
  createMonthly,
  everyDownloadDaily,
  monthTotals,
  monthlyFrom,
  restateJobFile,
  wheelsOnlyDaily,
} from '../helpers/restate-daily';
import { seedPypi, tablesOf, whileIngesting } from '../helpers/view-jobs';

/*
 * Restating a chain: view A (daily_mv) writes daily, which feeds view B (monthly_mv) into monthly. A's query is
 * fixed (it counted only wheels, now every download); restating February and March rebuilds both levels: daily's
 * months from the source with A's fixed query, monthly's from those with B's query. Every check reads contents.
 */

describe('a view restate of a chain', () => {
  let h: Harness;
  let db: string;
  let pypi: TableRef;
  const cli = (...args: string[]) => runCliOn(h, ...args);
  const exec = (query: string) => h.ch.exec(statementOf({ query, params: {} }));

  const oldSelect = wheelsOnlyDaily;
  const newSelect = everyDownloadDaily;
  /** B: the month's downloads per project, from daily (or from a query of daily's rows for expectations). */
  const monthlySelect = monthlyFrom;

  const byMonth = (inner: string, key: 'day' | 'month') => monthTotals(h.ch, inner, key);
  const daily = () => byMonth(`SELECT * FROM ${db}.daily`, 'day');
  const monthly = () => byMonth(`SELECT * FROM ${db}.monthly`, 'month');

  const jobFile = (): string => {
    const job: ViewRestateInputRaw['job'] = {
      kind: 'view-restate',
      view: `${db}.daily_mv`,
      writesEndBefore: '2024-04-01T00:00:00Z',
    };
    return restateJobFile(job);
  };

  beforeAll(async () => {
    h = await createHarness();
    db = await freshDatabase(h.ch, 'restchain');
    pypi = await seedPypi(h.ch, db, 40_000, '2024-01-01 00:00:00', '2024-05-01 00:00:00');
    await exec(createDaily(db));
    await exec(createMonthly(db));
    // The chain as it was: A counted wheels only; both levels' history filled with that definition.
    await exec(`CREATE MATERIALIZED VIEW ${db}.daily_mv TO ${db}.daily AS ${oldSelect(db)}`);
    await exec(`CREATE MATERIALIZED VIEW ${db}.monthly_mv TO ${db}.monthly AS ${monthlySelect(`${db}.daily`)}`);
    await exec(`INSERT INTO ${db}.daily ${oldSelect(db)}`);
    // A's definition fixed: every download (B is unchanged).
    await exec(`DROP VIEW ${db}.daily_mv`);
    await exec(`CREATE MATERIALIZED VIEW ${db}.daily_mv TO ${db}.daily AS ${newSelect(db)}`);
    h.serve();
  });

  afterAll(async () => {
    await h?.close();
  });

  it('refuses a level whose partition key is another function of time, naming the view and both keys', async () => {
    await exec(
      `CREATE TABLE ${db}.by_day (day Date, downloads UInt64) ENGINE = SummingMergeTree PARTITION BY toYYYYMMDD(day) ORDER BY day`,
    );
    await exec(
      `CREATE MATERIALIZED VIEW ${db}.by_day_mv TO ${db}.by_day AS SELECT day, sum(downloads) AS downloads FROM ${db}.daily GROUP BY day`,
    );
    try {
      const before = await tablesOf(h.ch, db);
      const run = await cli('start', '--job', jobFile(), '--from', '2024-02-01', '--to', '2024-03-31');
      expect(run.code).not.toBe(0);
      expect(run.err).toMatch(/materialized view restchain_\w+\.by_day_mv \(a chain/);
      expect(run.err).toContain('partitioned by "toYYYYMMDD(day)", the restated target by "toYYYYMM(day)"');
      expect(await tablesOf(h.ch, db)).toEqual(before);
    } finally {
      await exec(`DROP VIEW ${db}.by_day_mv`);
      await exec(`DROP TABLE ${db}.by_day`);
    }
  });

  it('restates two past months of both levels; other months untouched; rollback restores both', async () => {
    const file = jobFile();
    const plan = await cli('plan', '--job', file, '--from', '2024-02-01', '--to', '2024-03-31');
    expect(plan.err).toBe('');
    if (process.env.PLAN_OUT) writeFileSync(process.env.PLAN_OUT, plan.out);
    expect(plan.out).toContain(`${db}.monthly_mv → ${db}.monthly: its stored query over the shadow of ${db}.daily`);
    expect(plan.out).toContain(`swapped deepest first: ${db}.monthly, then ${db}.daily`);

    const dailyBefore = await daily();
    const monthlyBefore = await monthly();
    expect(monthlyBefore['202402']).toEqual(
      await byMonth(monthlySelect(`(${oldSelect(db)})`), 'month').then((m) => m['202402']),
    );
    const { result: run, ingested } = await whileIngesting(h.ch, pypi, () =>
      cli('start', '--job', file, '--from', '2024-02-01', '--to', '2024-03-31'),
    );
    expect(run.err).toBe('');
    expect(run.code).toBe(0);
    expect(ingested).toBeGreaterThan(0);

    const dailyAfter = await daily();
    const monthlyAfter = await monthly();
    const fixedDaily = await byMonth(newSelect(db), 'day');
    const fixedMonthly = await byMonth(monthlySelect(`(${newSelect(db)})`), 'month');
    for (const month of ['202402', '202403']) {
      expect(dailyAfter[month]).toEqual(fixedDaily[month]);
      expect(dailyAfter[month]).not.toEqual(dailyBefore[month]);
      expect(monthlyAfter[month]).toEqual(fixedMonthly[month]);
      expect(monthlyAfter[month]).not.toEqual(monthlyBefore[month]);
    }
    // January and April keep the old definition's rows at both levels.
    for (const month of ['202401', '202404']) {
      expect(dailyAfter[month]).toEqual(dailyBefore[month]);
      expect(monthlyAfter[month]).toEqual(monthlyBefore[month]);
    }
    // Every level's ledger row, in the restated target's ledger.
    const ledger = await h.ch.rows(
      statementOf<{ target: string; partition: string }>({
        query: `SELECT target, partition FROM ${db}._backfill_ledger FINAL WHERE action = 'replaced' ORDER BY target, partition`,
        params: {},
      }),
    );
    expect(ledger.map((r) => `${r.target}/${r.partition}`)).toEqual([
      'daily/202402',
      'daily/202403',
      'monthly/202402',
      'monthly/202403',
    ]);

    const rollback = await cli('rollback', `view-restate-${db}.daily_mv-2024-02-01-2024-03-31`);
    expect(rollback.err).toBe('');
    expect(rollback.out).toContain('rolled back 2 partition(s)');
    const dailyBack = await daily();
    const monthlyBack = await monthly();
    for (const month of ['202401', '202402', '202403', '202404']) {
      expect(dailyBack[month]).toEqual(dailyBefore[month]);
      expect(monthlyBack[month]).toEqual(monthlyBefore[month]);
    }
    // The current months, written by the live views during the restate, are what they were after it.
    const current = Object.keys(dailyAfter).filter((m) => m > '202404');
    expect(current.length).toBeGreaterThan(0);
    for (const month of current) {
      expect(dailyBack[month]).toEqual(dailyAfter[month]);
      expect(monthlyBack[month]).toEqual(monthlyAfter[month]);
    }
  });
});
