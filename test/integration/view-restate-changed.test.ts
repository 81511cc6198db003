import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import type { ViewRestateInputRaw } from '../../src/shared/view-restate-input';
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
import { seedPypi } from '../helpers/view-jobs';

/*
 * `--only changed` for a view restate: three months restated record the source's fingerprint of their rows in the
 * ledger; once the source rows of one month change, only that month is restated again, and the other months' ledger
 * rows stay as they were.
 */

describe('a view restate with --only changed', () => {
  let h: Harness;
  let db: string;
  const cli = (...args: string[]) => runCliOn(h, ...args);
  const exec = (query: string) => h.ch.exec(statementOf({ query, params: {} }));

  const oldSelect = wheelsOnlyDaily;
  const newSelect = everyDownloadDaily;

  const byMonth = (inner: string) => monthTotals(h.ch, inner);

  /** The ledger's rows of the target, per partition: how many swaps, the newest's time and whether it vouches. */
  const ledger = async () => {
    const rows = await h.ch.rows(
      statementOf<{ partition: string; swaps: string; last: string; vouched: string }>({
        query: [
          'SELECT partition, toString(count()) AS swaps, toString(max(swapped_at)) AS last,',
          '  toString(argMax(fingerprint_known, swapped_at)) AS vouched',
          `FROM ${db}._backfill_ledger FINAL WHERE target = 'daily' GROUP BY partition ORDER BY partition`,
        ].join('\n'),
        params: {},
      }),
    );
    return Object.fromEntries(rows.map((r) => [r.partition, { swaps: r.swaps, last: r.last, vouched: r.vouched }]));
  };

  const jobFile = (): string => {
    const job: ViewRestateInputRaw['job'] = {
      kind: 'view-restate',
      view: `${db}.daily_mv`,
      writesEndBefore: '2024-04-01T00:00:00Z',
    };
    return restateJobFile(job);
  };
  const range = ['--from', '2024-01-01', '--to', '2024-03-31'];

  beforeAll(async () => {
    h = await createHarness();
    db = await freshDatabase(h.ch, 'restate_changed');
    await seedPypi(h.ch, db, 30_000, '2024-01-01 00:00:00', '2024-04-01 00:00:00');
    await exec(createDaily(db));
    await exec(`INSERT INTO ${db}.daily ${oldSelect(db)}`);
    await exec(`CREATE MATERIALIZED VIEW ${db}.daily_mv TO ${db}.daily AS ${newSelect(db)}`);
    h.serve();
  });

  afterAll(async () => {
    await h?.close();
  });

  it('restates only the month whose source rows changed; the others keep their ledger rows', async () => {
    const file = jobFile();
    const first = await cli('start', '--job', file, ...range, '--workflow-id', `restate-${randomUUID()}`);
    expect(first.err).toBe('');
    expect(first.code).toBe(0);
    const restated = await ledger();
    expect(Object.keys(restated)).toEqual(['202401', '202402', '202403']);
    for (const month of Object.values(restated)) expect(month).toMatchObject({ swaps: '1', vouched: '1' });

    // February's source rows change (sdist downloads removed); January and March are not touched.
    await exec(
      `ALTER TABLE ${db}.pypi DELETE WHERE toYYYYMM(timestamp) = 202402 AND type = 'sdist' SETTINGS mutations_sync = 2`,
    );
    const before = await byMonth(`SELECT * FROM ${db}.daily`);
    const fixed = await byMonth(newSelect(db));
    expect(before['202402']).not.toEqual(fixed['202402']);

    const plan = await cli('plan', '--job', file, ...range, '--only', 'changed');
    expect(plan.err).toBe('');
    if (process.env.PLAN_OUT) writeFileSync(process.env.PLAN_OUT, plan.out);
    expect(plan.out).toContain('2 partitions unchanged since');
    expect(plan.out).toContain('  partitions  1\n    202402');

    const changed = await cli(
      'start',
      '--job',
      file,
      ...range,
      '--only',
      'changed',
      '--workflow-id',
      `restate-${randomUUID()}`,
    );
    expect(changed.err).toBe('');
    expect(changed.code).toBe(0);
    expect(changed.out).toContain('2 partitions unchanged since');
    const after = await byMonth(`SELECT * FROM ${db}.daily`);
    expect(after['202402']).toEqual(fixed['202402']);
    expect(after['202401']).toEqual(before['202401']);
    expect(after['202403']).toEqual(before['202403']);
    const ledgerAfter = await ledger();
    expect(ledgerAfter['202401']).toEqual(restated['202401']);
    expect(ledgerAfter['202403']).toEqual(restated['202403']);
    expect(ledgerAfter['202402']).toMatchObject({ swaps: '2', vouched: '1' });

    const again = await cli(
      'start',
      '--job',
      file,
      ...range,
      '--only',
      'changed',
      '--workflow-id',
      `restate-${randomUUID()}`,
    );
    expect(again.err).toBe('');
    expect(again.out).toMatch(/3 partitions unchanged since \S+: nothing to do/);
    expect(await ledger()).toEqual(ledgerAfter);
  });
});
