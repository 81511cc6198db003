import { writeFileSync } from 'node:fs';
import type { ViewRestateInputRaw } from '../../src/shared/view-restate-input';
import type { TableRef } from '../../src/shared/table-ref';
import { createHarness, type Harness } from '../helpers/backfill-harness';
import { freshDatabase } from '../helpers/chdb-env';
import { runCliOn } from '../helpers/run-cli-captured';
import { statementOf } from '../helpers/statement-of';
import {
  createDaily,
  everyDownloadDaily,
  monthTotals,
  restateJobFile,
  wheelsOnlyDaily,
} from '../helpers/restate-daily';
import { seedPypi, tablesOf, whileIngesting } from '../helpers/view-jobs';

/*
 * Restating an existing view's target: the view's definition is fixed (here: it counted only wheels, now every
 * download), then three past monthly partitions are rebuilt from the source with the fixed stored query while
 * ingestion runs through the live view. Every check reads the target's contents.
 */

describe('a view restate', () => {
  let h: Harness;
  let db: string;
  let pypi: TableRef;
  const cli = (...args: string[]) => runCliOn(h, ...args);
  const exec = (query: string) => h.ch.exec(statementOf({ query, params: {} }));

  const oldSelect = wheelsOnlyDaily;
  const newSelect = everyDownloadDaily;

  const byMonth = (inner: string) => monthTotals(h.ch, inner);

  /** A restate job file of the view `daily_mv`. */
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
    db = await freshDatabase(h.ch, 'restate');
    pypi = await seedPypi(h.ch, db, 40_000, '2024-01-01 00:00:00', '2024-05-01 00:00:00');
    await exec(createDaily(db));
    // The view as it was: wheels only; its history filled with that definition.
    await exec(`CREATE MATERIALIZED VIEW ${db}.daily_mv TO ${db}.daily AS ${oldSelect(db)}`);
    await exec(`INSERT INTO ${db}.daily ${oldSelect(db)}`);
    // The definition fixed: every download.
    await exec(`DROP VIEW ${db}.daily_mv`);
    await exec(`CREATE MATERIALIZED VIEW ${db}.daily_mv TO ${db}.daily AS ${newSelect(db)}`);
    h.serve();
  });

  afterAll(async () => {
    await h?.close();
  });

  it('refuses a partition the live view still writes into, naming it, and creates nothing', async () => {
    const before = await tablesOf(h.ch, db);
    const contents = await byMonth(`SELECT * FROM ${db}.daily`);
    const run = await cli('start', '--job', jobFile(), '--from', '2024-02-01', '--to', '2024-04-30');
    expect(run.code).not.toBe(0);
    expect(run.err).toContain('can still write into partition 202404');
    expect(await tablesOf(h.ch, db)).toEqual(before);
    expect(await byMonth(`SELECT * FROM ${db}.daily`)).toEqual(contents);
  });

  it('refuses a chain whose next level is not partitioned like the target, naming the view and both keys', async () => {
    await exec(`CREATE TABLE ${db}.monthly (month UInt32, downloads UInt64) ENGINE = SummingMergeTree ORDER BY month`);
    await exec(`CREATE MATERIALIZED VIEW ${db}.monthly_mv TO ${db}.monthly AS
      SELECT toYYYYMM(day) AS month, sum(downloads) AS downloads FROM ${db}.daily GROUP BY month`);
    try {
      const before = await tablesOf(h.ch, db);
      const run = await cli('start', '--job', jobFile(), '--from', '2024-01-01', '--to', '2024-03-31');
      expect(run.code).not.toBe(0);
      expect(run.err).toMatch(/daily feeds materialized view restate_\w+\.monthly_mv \(a chain/);
      expect(run.err).toContain('is partitioned by "", the restated target by "toYYYYMM(day)"');
      expect(await tablesOf(h.ch, db)).toEqual(before);
    } finally {
      await exec(`DROP VIEW ${db}.monthly_mv`);
      await exec(`DROP TABLE ${db}.monthly`);
    }
  });

  it('restates three past months with the fixed query; April, the current month and the live view untouched', async () => {
    const file = jobFile();
    const plan = await cli('plan', '--job', file, '--from', '2024-01-01', '--to', '2024-03-31');
    expect(plan.err).toBe('');
    if (process.env.PLAN_OUT) writeFileSync(process.env.PLAN_OUT, plan.out);
    expect(plan.out).toContain('202401');
    expect(plan.out).toContain('rows, and the total of each numeric column');

    const before = await byMonth(`SELECT * FROM ${db}.daily`);
    const { result: run, ingested } = await whileIngesting(h.ch, pypi, () =>
      cli('start', '--job', file, '--from', '2024-01-01', '--to', '2024-03-31'),
    );
    expect(run.err).toBe('');
    expect(run.code).toBe(0);
    expect(ingested).toBeGreaterThan(0);

    const after = await byMonth(`SELECT * FROM ${db}.daily`);
    const fixed = await byMonth(newSelect(db));
    const old = await byMonth(oldSelect(db));
    for (const month of ['202401', '202402', '202403']) {
      expect(after[month]).toEqual(fixed[month]);
      expect(after[month]).not.toEqual(before[month]);
    }
    // April keeps the old definition's rows; the current month is the live (fixed) view's alone.
    expect(after['202404']).toEqual(before['202404']);
    expect(after['202404']).toEqual(old['202404']);
    const current = Object.keys(fixed).filter((m) => m > '202404');
    expect(current.length).toBeGreaterThan(0);
    for (const month of current) expect(after[month]).toEqual(fixed[month]);
    const [view] = await h.ch.rows(
      statementOf<{ as_select: string }>({
        query: `SELECT as_select FROM system.tables WHERE database = {db:String} AND name = 'daily_mv'`,
        params: { db },
      }),
    );
    expect(view.as_select).not.toContain('bdist_wheel');
    // What a rollback restores: the backup holds the three partitions as they were before the restate.
    const backups = (await tablesOf(h.ch, db)).filter((t) => t.startsWith('daily_backup_'));
    expect(backups).toHaveLength(1);
    const kept = await byMonth(`SELECT * FROM ${db}.${backups[0]}`);
    expect(kept).toEqual({ 202401: before['202401'], 202402: before['202402'], 202403: before['202403'] });

    // Rollback restores the old contents of the three months, and nothing else.
    const rollback = await cli('rollback', `view-restate-${db}.daily_mv-2024-01-01-2024-03-31`);
    expect(rollback.err).toBe('');
    expect(rollback.out).toContain('rolled back 3 partition(s)');
    const rolledBack = await byMonth(`SELECT * FROM ${db}.daily`);
    for (const month of ['202401', '202402', '202403', '202404']) expect(rolledBack[month]).toEqual(before[month]);
    for (const month of current) expect(rolledBack[month]).toEqual(after[month]);
  });
});
