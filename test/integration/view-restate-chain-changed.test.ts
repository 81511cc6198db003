import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import type { ViewRestateInputRaw } from '../../src/shared/view-restate-input';
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
} from '../helpers/restate-daily';
import { seedPypi } from '../helpers/view-jobs';

/*
 * `--only changed` and the confirm handshake on a chain: view A (daily_mv) writes daily, which feeds view B
 * (monthly_mv) into monthly. The restated target's ledger row carries the source fingerprint and decides for every
 * level: once the source rows of one month change, that month is restated at both levels and no other; B's own
 * definition changing makes every month changed. A plan with `ingestion: paused-by-operator` marks the months
 * restated after the confirm beside the chain's levels.
 */

describe('a view restate of a chain with --only changed', () => {
  let h: Harness;
  let db: string;
  const cli = (...args: string[]) => runCliOn(h, ...args);
  const exec = (query: string) => h.ch.exec(statementOf({ query, params: {} }));

  const select = everyDownloadDaily;
  /** B: the month's downloads per project, from daily (or from a query of daily's rows for expectations). */
  const monthlySelect = monthlyFrom;

  const byMonth = (inner: string, key: 'day' | 'month') => monthTotals(h.ch, inner, key);
  const daily = () => byMonth(`SELECT * FROM ${db}.daily`, 'day');
  const monthly = () => byMonth(`SELECT * FROM ${db}.monthly`, 'month');

  /** The ledger's rows per `target/partition`: how many swaps, the newest's time and whether it vouches. */
  const ledger = async () => {
    const rows = await h.ch.rows(
      statementOf<{ key: string; swaps: string; last: string; vouched: string }>({
        query: [
          "SELECT concat(target, '/', partition) AS key, toString(count()) AS swaps, toString(max(swapped_at)) AS last,",
          '  toString(argMax(fingerprint_known, swapped_at)) AS vouched',
          `FROM ${db}._backfill_ledger FINAL WHERE action = 'replaced' GROUP BY key ORDER BY key`,
        ].join('\n'),
        params: {},
      }),
    );
    return Object.fromEntries(rows.map((r) => [r.key, { swaps: r.swaps, last: r.last, vouched: r.vouched }]));
  };

  const jobFile = (extra: Partial<ViewRestateInputRaw['job']> = {}): string => {
    const job = {
      kind: 'view-restate',
      view: `${db}.daily_mv`,
      writesEndBefore: '2024-04-01T00:00:00Z',
      ...extra,
    } as ViewRestateInputRaw['job'];
    return restateJobFile(job);
  };
  const range = ['--from', '2024-01-01', '--to', '2024-03-31'];
  const start = (file: string, ...args: string[]) =>
    cli('start', '--job', file, ...range, ...args, '--workflow-id', `restate-${randomUUID()}`);

  beforeAll(async () => {
    h = await createHarness();
    db = await freshDatabase(h.ch, 'restchain_changed');
    await seedPypi(h.ch, db, 30_000, '2024-01-01 00:00:00', '2024-04-01 00:00:00');
    await exec(createDaily(db));
    await exec(createMonthly(db));
    await exec(`CREATE MATERIALIZED VIEW ${db}.daily_mv TO ${db}.daily AS ${select(db)}`);
    await exec(`CREATE MATERIALIZED VIEW ${db}.monthly_mv TO ${db}.monthly AS ${monthlySelect(`${db}.daily`)}`);
    h.serve();
  });

  afterAll(async () => {
    await h?.close();
  });

  it('restates at every level only the month whose source rows changed; then nothing', async () => {
    const file = jobFile();
    const first = await start(file);
    expect(first.err).toBe('');
    expect(first.code).toBe(0);
    const restated = await ledger();
    expect(Object.keys(restated)).toEqual([
      'daily/202401',
      'daily/202402',
      'daily/202403',
      'monthly/202401',
      'monthly/202402',
      'monthly/202403',
    ]);
    // The restated target's rows vouch for the source; the level below reads daily's new rows and vouches for none.
    for (const m of ['202401', '202402', '202403']) {
      expect(restated[`daily/${m}`]).toMatchObject({ swaps: '1', vouched: '1' });
      expect(restated[`monthly/${m}`]).toMatchObject({ swaps: '1', vouched: '0' });
    }

    const unchanged = await cli('plan', '--job', file, ...range, '--only', 'changed');
    expect(unchanged.err).toBe('');
    expect(unchanged.out).toMatch(/3 partitions unchanged since \S+: 202401, 202402, 202403: nothing to do/);

    await exec(
      `ALTER TABLE ${db}.pypi DELETE WHERE toYYYYMM(timestamp) = 202402 AND type = 'sdist' SETTINGS mutations_sync = 2`,
    );
    const dailyBefore = await daily();
    const monthlyBefore = await monthly();
    const fixedDaily = await byMonth(select(db), 'day');
    const fixedMonthly = await byMonth(monthlySelect(`(${select(db)})`), 'month');
    expect(dailyBefore['202402']).not.toEqual(fixedDaily['202402']);
    expect(monthlyBefore['202402']).not.toEqual(fixedMonthly['202402']);

    const plan = await cli('plan', '--job', file, ...range, '--only', 'changed');
    expect(plan.err).toBe('');
    if (process.env.PLAN_OUT) writeFileSync(process.env.PLAN_OUT, plan.out);
    expect(plan.out).toContain('2 partitions unchanged since');
    expect(plan.out).toContain('  partitions  1\n    202402');

    const changed = await start(file, '--only', 'changed');
    expect(changed.err).toBe('');
    expect(changed.code).toBe(0);
    const dailyAfter = await daily();
    const monthlyAfter = await monthly();
    expect(dailyAfter['202402']).toEqual(fixedDaily['202402']);
    expect(monthlyAfter['202402']).toEqual(fixedMonthly['202402']);
    for (const m of ['202401', '202403']) {
      expect(dailyAfter[m]).toEqual(dailyBefore[m]);
      expect(monthlyAfter[m]).toEqual(monthlyBefore[m]);
    }
    const ledgerAfter = await ledger();
    for (const m of ['202401', '202403']) {
      expect(ledgerAfter[`daily/${m}`]).toEqual(restated[`daily/${m}`]);
      expect(ledgerAfter[`monthly/${m}`]).toEqual(restated[`monthly/${m}`]);
    }
    expect(ledgerAfter['daily/202402']).toMatchObject({ swaps: '2', vouched: '1' });
    expect(ledgerAfter['monthly/202402']).toMatchObject({ swaps: '2', vouched: '0' });

    const again = await start(file, '--only', 'changed');
    expect(again.err).toBe('');
    expect(again.out).toMatch(/3 partitions unchanged since \S+: nothing to do/);
    expect(await ledger()).toEqual(ledgerAfter);
  });

  it("takes every month once a lower level's view changed; marks the confirm's months beside the chain", async () => {
    // B's definition changes (a different column list): its ledger rows no longer match, at every month.
    await exec(`DROP VIEW ${db}.monthly_mv`);
    await exec(
      `CREATE MATERIALIZED VIEW ${db}.monthly_mv TO ${db}.monthly AS ${monthlySelect(`${db}.daily`)} HAVING downloads > 0`,
    );
    const plan = await cli('plan', '--job', jobFile(), ...range, '--only', 'changed');
    expect(plan.err).toBe('');
    expect(plan.out).not.toContain('unchanged');
    expect(plan.out).toContain('  partitions  3\n');

    const paused = jobFile({ writesEndBefore: '2024-03-01T00:00:00Z', ingestion: 'paused-by-operator' });
    const confirmPlan = await cli('plan', '--job', paused, ...range);
    expect(confirmPlan.err).toBe('');
    expect(confirmPlan.out).toMatch(
      / {4}202402 {2}view output [\d,]+ rows, live [\d,]+ rows; \S+\.monthly live [\d,]+ rows\n/,
    );
    expect(confirmPlan.out).toMatch(/ {4}202403 .*\.monthly live [\d,]+ rows {2}\(after confirm\)\n/);
    expect(confirmPlan.out).toContain('  confirm     the live view can still write into 202403');
    expect(confirmPlan.out).toContain('swapped deepest first');
  });
});
