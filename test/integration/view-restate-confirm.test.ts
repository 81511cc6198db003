import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import type { ViewRestateInputRaw, ViewRestateSummary } from '../../src/shared/view-restate-input';
import type { TableRef } from '../../src/shared/table-ref';
import { insertPypiRows } from '../../examples/demo/sql/pypi-demo';
import { createHarness, type Harness } from '../helpers/backfill-harness';
import { freshDatabase } from '../helpers/chdb-env';
import { progressUntil } from '../helpers/progress-until';
import { runCliOn } from '../helpers/run-cli-captured';
import { statementOf } from '../helpers/statement-of';
import {
  createDaily,
  everyDownloadDaily,
  monthTotals,
  restateJobFile,
  wheelsOnlyDaily,
} from '../helpers/restate-daily';
import { seedPypi, sqlTime, whileIngesting } from '../helpers/view-jobs';

/*
 * Restating the current month, which the live view still writes into, with `ingestion: paused-by-operator`: the
 * past month is restated while ingestion runs, then the job waits for `confirm`; the test stops its ingestion, as an
 * operator would, confirms, and the current month ends equal to the fixed query over the source.
 */

describe('a view restate with ingestion paused by the operator', () => {
  let h: Harness;
  let db: string;
  let pypi: TableRef;
  const cli = (...args: string[]) => runCliOn(h, ...args);
  const exec = (query: string) => h.ch.exec(statementOf({ query, params: {} }));
  const now = new Date();
  const currentMonth = now.toISOString().slice(0, 7).replace('-', '');

  const oldSelect = wheelsOnlyDaily;
  const newSelect = everyDownloadDaily;

  const byMonth = (inner: string) => monthTotals(h.ch, inner);

  const jobFile = (): string => {
    const job: ViewRestateInputRaw['job'] = {
      kind: 'view-restate',
      view: `${db}.daily_mv`,
      partitions: ['202404', currentMonth],
      writesEndBefore: '2024-05-01T00:00:00Z',
      ingestion: 'paused-by-operator',
    };
    return restateJobFile(job);
  };

  beforeAll(async () => {
    h = await createHarness();
    db = await freshDatabase(h.ch, 'restate_confirm');
    pypi = await seedPypi(h.ch, db, 20_000, '2024-04-01 00:00:00', '2024-05-01 00:00:00');
    // Rows of the current month so far, up to a minute ago.
    const monthStart = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1);
    await h.ch.exec(insertPypiRows(pypi, 20_000, sqlTime(monthStart), sqlTime(now.getTime() - 60_000)));
    await exec(createDaily(db));
    // The target as the old definition (wheels only) filled it; the live view now counts every download.
    await exec(`INSERT INTO ${db}.daily ${oldSelect(db)}`);
    await exec(`CREATE MATERIALIZED VIEW ${db}.daily_mv TO ${db}.daily AS ${newSelect(db)}`);
    h.serve();
  });

  afterAll(async () => {
    await h?.close();
  });

  it('restates the past month while ingestion runs, the current month after confirm; it then equals the fixed query', async () => {
    const file = jobFile();
    const plan = await cli('plan', '--job', file);
    expect(plan.err).toBe('');
    if (process.env.PLAN_OUT) writeFileSync(process.env.PLAN_OUT, plan.out);
    expect(plan.out).toContain(`${currentMonth}  view output`);
    expect(plan.out).toMatch(new RegExp(`${currentMonth} .*\\(after confirm\\)`));
    expect(plan.out).not.toMatch(/202404 .*\(after confirm\)/);

    const before = await byMonth(`SELECT * FROM ${db}.daily`);
    expect(before[currentMonth]).not.toEqual((await byMonth(newSelect(db)))[currentMonth]);

    const id = `restate-confirm-${randomUUID()}`;
    const handle = h.env.client.workflow.getHandle(id);
    // Ingestion runs until the job waits for the confirm; then the "operator" stops it. The current month shrinks
    // (the live view's many small per-insert rows become one per day and project): --allow-shrink.
    const { result: started, ingested } = await whileIngesting(h.ch, pypi, async () => {
      const s = await cli('start', '--job', file, '--workflow-id', id, '--no-wait', '--allow-shrink');
      await progressUntil(handle, (p) => p.ingestion?.state === 'awaiting-confirm', 'waiting for confirm');
      return s;
    });
    expect(started.out).toContain(`started ${id}`);
    expect(started.out).toContain(`ch-backfill confirm ${id}`);
    expect(ingested).toBeGreaterThan(0);

    const waiting = await cli('status', id);
    expect(waiting.out).toContain(
      `waiting for confirm: pause ingestion into ${db}.pypi, then run ch-backfill confirm ${id}`,
    );
    // The past month was restated while ingestion ran; the current month still holds the old rows.
    const midway = await byMonth(`SELECT * FROM ${db}.daily`);
    expect(midway['202404']).toEqual((await byMonth(newSelect(db)))['202404']);

    const confirmed = await cli('confirm', id);
    expect(confirmed.err).toBe('');
    expect(confirmed.code).toBe(0);
    expect(confirmed.out).toContain(`confirm accepted by ${id}`);
    expect(confirmed.out).toContain(`ingestion into ${db}.pypi may resume since `);

    const summary = (await handle.result()) as ViewRestateSummary;
    expect(summary.partitions.map((p) => p.partition).sort()).toEqual(['202404', currentMonth]);
    const after = await byMonth(`SELECT * FROM ${db}.daily`);
    const fixed = await byMonth(newSelect(db));
    expect(after[currentMonth]).toEqual(fixed[currentMonth]);
    expect(after['202404']).toEqual(fixed['202404']);

    const status = await cli('status', id);
    expect(status.out).toContain(`ingestion into ${db}.pypi may resume since `);

    // Nothing awaits a confirm any more: refused, with the reason.
    const again = await cli('confirm', id);
    expect(again.code).not.toBe(0);
    expect(again.err).toContain(`${id}: nothing to confirm: ingestion into ${db}.pypi may resume`);
  });
});
