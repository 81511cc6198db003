import { createDemoEventsTable, insertDemoEvents } from '../../examples/demo/sql/demo-events';
import { createPypiTable, insertPypiRows } from '../../examples/demo/sql/pypi-demo';
import { createHarness, exampleJob, type Harness } from '../helpers/backfill-harness';
import { freshDatabase } from '../helpers/chdb-env';
import { progressUntil } from '../helpers/progress-until';
import { runCliOn } from '../helpers/run-cli-captured';
import { createPypiWithViews, pypiImportJob, pypiViewJob, seedPypi, viewJobFile } from '../helpers/view-jobs';

/*
 * `ch-backfill list` with one job of every kind on the server, each started through the CLI: a backfill, its
 * rollback, a daily run, a validation, a view backfill, an import (all completed) and a snapshot view job waiting
 * for its confirm (running). Each is listed once with its kind, status and target; the workflows the jobs start
 * themselves (partition writers, backup retention) are not.
 */

describe('ch-backfill list shows every kind of job', () => {
  let h: Harness;
  let events: string;
  let views: string;
  let imports: string;
  const cli = (...args: string[]) => runCliOn(h, ...args);
  const ids = {
    backfill: 'list-backfill',
    rollback: 'rollback-list-backfill',
    view: 'list-view',
    snapshot: 'list-snapshot',
    import: 'list-import',
  };
  /** `list …` once every job's status is visible (visibility is updated shortly after a workflow closes). */
  const listWhen = async (ok: (out: string) => boolean, ...args: string[]): Promise<string> => {
    for (let i = 0; i < 100; i++) {
      const { code, out } = await cli('list', ...args);
      expect(code).toBe(0);
      if (ok(out)) return out;
      await new Promise((r) => setTimeout(r, 200));
    }
    return (await cli('list', ...args)).out;
  };

  beforeAll(async () => {
    h = await createHarness();
    events = await freshDatabase(h.ch, 'list_events');
    await h.ch.exec(createDemoEventsTable({ database: events, name: 'events' }));
    await h.ch.exec(insertDemoEvents({ database: events, name: 'events' }, '2024-01-01', 1, 3_000));
    views = await freshDatabase(h.ch, 'list_views');
    await seedPypi(h.ch, views, 2_000, '2024-01-01 00:00:00', '2024-02-01 00:00:00');
    imports = await freshDatabase(h.ch, 'list_import');
    await createPypiWithViews(h.ch, imports);
    const t = (name: string) => ({ database: imports, name });
    await h.ch.exec(insertPypiRows(t('pypi'), 500, '2024-06-01 00:00:00', '2024-06-02 00:00:00'));
    await h.ch.exec(createPypiTable(t('pypi_history')));
    await h.ch.exec(insertPypiRows(t('pypi_history'), 2_000, '2024-05-01 00:00:00', '2024-06-01 00:00:00'));
    h.serve();

    const result = (id: string) => h.env.client.workflow.getHandle(id).result();
    const aggregate = viewJobFile(exampleJob(events));
    const range = ['--from', '2024-01-01', '--to', '2024-01-31'];
    expect((await cli('start', '--job', aggregate, ...range, '--workflow-id', ids.backfill)).code).toBe(0);
    expect((await cli('rollback', ids.backfill)).code).toBe(0);
    expect((await cli('schedule', 'run', '--job', aggregate, '--date', '2024-01-10')).code).toBe(0);
    const reference = `${events}.events_daily`;
    expect((await cli('validate', '--job', aggregate, '--reference', reference, '--date', '2024-01-10')).code).toBe(0);
    const start = (job: string, id: string) => cli('start', '--job', job, '--workflow-id', id, '--no-wait');
    await start(viewJobFile(pypiViewJob('pypi-downloads.yaml', views)), ids.view);
    await start(viewJobFile(pypiImportJob(imports)), ids.import);
    const snapshot = pypiViewJob('pypi-downloads-per-day-snapshot.yaml', views, {
      target: { table: `${views}.pypi_hourly`, engine: 'SummingMergeTree', partitionBy: 'month' },
      view: { name: 'pypi_hourly_mv' },
    });
    await start(viewJobFile(snapshot), ids.snapshot);
    await Promise.all([result(ids.view), result(ids.import)]);
    const handle = h.env.client.workflow.getHandle(ids.snapshot);
    await progressUntil(handle, (p) => p.snapshot?.state === 'awaiting-confirm', 'waiting for confirm');
  }, 180_000);

  afterAll(async () => {
    await h?.close();
  });

  it('lists each job once with its kind, status and target, and no workflow a job started itself', async () => {
    const out = await listWhen((o) => o.split('\n').length === 7 && o.split('  COMPLETED  ').length === 7);
    const lines = out.split('\n');
    const line = (id: string) => lines.filter((l) => l.startsWith(`${id}  `));

    expect(lines).toHaveLength(7);
    expect(line(ids.backfill)).toEqual([
      expect.stringMatching(
        new RegExp(
          `^list-backfill  backfill  COMPLETED  ${events}\\.events_daily  1 partitions 202401…202401  started \\S+Z$`,
        ),
      ),
    ]);
    expect(line(ids.rollback)[0]).toContain(
      `rollback  COMPLETED  ${events}.events_daily  of ${ids.backfill}  started `,
    );
    expect(lines.filter((l) => l.includes('  daily  '))).toEqual([
      expect.stringContaining(`  daily  COMPLETED  ${events}.events_daily  day 2024-01-10  started `),
    ]);
    expect(lines.filter((l) => l.includes('  validate  '))).toEqual([
      expect.stringContaining(
        `  validate  COMPLETED  ${events}.events_daily  against ${events}.events_daily  started `,
      ),
    ]);
    expect(line(ids.view)[0]).toContain(`list-view  view  COMPLETED  ${views}.pypi_downloads  started `);
    expect(line(ids.import)[0]).toContain(`list-import  import  COMPLETED  ${imports}.pypi  started `);
    expect(line(ids.snapshot)[0]).toContain(`list-snapshot  snapshot  RUNNING  ${views}.pypi_hourly  started `);
    expect(out).not.toContain('partition:');
    expect(out).not.toContain('backup-retention:');
  });

  it('--running, --target (with or without the database) and --limit narrow the list', async () => {
    expect((await cli('list', '--running')).out.split('\n')).toEqual([
      expect.stringMatching(/^list-snapshot {2}snapshot {2}RUNNING {2}/),
    ]);
    const ofEvents = (await cli('list', '--target', `${events}.events_daily`)).out.split('\n');
    expect(ofEvents.map((l) => l.split('  ')[1]).sort()).toEqual(['backfill', 'daily', 'rollback', 'validate']);
    expect((await cli('list', '--target', 'pypi_downloads')).out.split('\n')).toEqual([
      expect.stringMatching(/^list-view {2}view {2}COMPLETED {2}/),
    ]);
    expect((await cli('list', '--target', 'other.pypi_downloads')).out).toBe('no jobs');
    expect((await cli('list', '--limit', '2')).out.split('\n')).toHaveLength(2);
  });
});
