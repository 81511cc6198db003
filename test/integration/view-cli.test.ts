import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { ViewJobInput } from '../../src/shared/job-spec';
import { createHarness, exampleJob, type Harness } from '../helpers/backfill-harness';
import { freshDatabase } from '../helpers/chdb-env';
import { progressUntil } from '../helpers/progress-until';
import { runCliOn } from '../helpers/run-cli-captured';
import {
  dryRun,
  pypiMonths,
  pypiViewJob,
  rowsOf as rowsOfTable,
  seedPypi,
  tablesOf,
  targetAndSource,
  viewJobFile,
  whileIngesting,
} from '../helpers/view-jobs';
import type { TableRef } from '../../src/shared/table-ref';
import { statementOf } from '../helpers/statement-of';

/*
 * A view job (`kind: view`) driven through `ch-backfill` alone: start with the live bar and the summary, status,
 * pause, resume and cancel. Every check reads the target's contents.
 */

describe('ch-backfill with a view job: start, status, pause, resume, cancel', () => {
  let h: Harness;
  let db: string;
  let pypi: TableRef;

  const cli = (...args: string[]) => runCliOn(h, ...args);
  const jobFile = viewJobFile;
  const tables = (): Promise<string[]> => tablesOf(h.ch, db);
  const rowsOf = (table: string): Promise<number> => rowsOfTable(h.ch, db, table);
  /** The months of `pypi` (history, and the month the ingestion of an earlier test wrote into). */
  const months = (): Promise<number> => pypiMonths(h.ch, db);
  /** The per-hour example on its own target and view, so that each test starts from nothing. */
  const hourlyJob = (name: string): ViewJobInput =>
    pypiViewJob('pypi-downloads-per-day.yaml', db, {
      target: { table: `${db}.${name}`, partitionBy: 'month' },
      view: { name: `${name}_mv` },
    });

  beforeAll(async () => {
    h = await createHarness();
    db = await freshDatabase(h.ch, 'viewcli');
    pypi = await seedPypi(h.ch, db, 100_000, '2024-01-01 00:00:00', '2024-03-01 00:00:00');
    h.serve();
  });

  afterAll(async () => {
    await h?.close();
  });

  it('refuses --from/--to and --allow-shrink for a view job (and an aggregate job without them), before anything is started or created', async () => {
    const file = jobFile(pypiViewJob('pypi-downloads.yaml', db));
    const before = await tables();

    const ranged = await cli('start', '--job', file, '--from', '2024-01-01', '--to', '2024-01-31');
    const shrink = await cli('start', '--job', file, '--allow-shrink');

    expect(ranged.code).toBe(1);
    expect(ranged.err).toContain('is a view job: it backfills every row before its cutoff');
    expect(ranged.err).toContain('--from/--to do not apply');
    expect(shrink.code).toBe(1);
    expect(shrink.err).toContain('--allow-shrink does not apply');
    const aggregate = path.join(tmpdir(), `aggregate-job-${randomUUID()}.json`);
    writeFileSync(aggregate, JSON.stringify(exampleJob(db)));
    const unranged = await cli('start', '--job', aggregate);
    expect(unranged.code).toBe(1);
    expect(unranged.err).toContain('is an aggregate job: give the range of days with --from and --to');
    expect(await tables()).toEqual(before);
  });

  it('start follows the view backfill to its summary; the target counts every row once, ingestion included', async () => {
    const file = jobFile(pypiViewJob('pypi-downloads.yaml', db));
    const { result: run } = await whileIngesting(h.ch, pypi, () => cli('start', '--job', file));

    expect(run.err).toBe('');
    expect(run.code).toBe(0);
    expect(run.out).toContain('started view-backfill-pypi_downloads_mv');
    expect(run.out).toContain(`1 partitions swapped into ${db}.pypi_downloads, 0 failed`);
    expect(run.out).toMatch(
      new RegExp(
        `${db}\\.pypi_downloads_mv writes the rows from \\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ on into ${db}\\.pypi_downloads`,
      ),
    );
    const { target, source: view } = await targetAndSource(
      h.ch,
      db,
      'pypi_downloads',
      'project',
      'sum(count)',
      'project',
    );
    expect(target).toEqual(view);
    expect(Number(view.total)).toBeGreaterThan(100_000);
    expect((await tables()).filter((t) => t.includes('_v2_'))).toEqual([]);

    const status = await cli('status', 'view-backfill-pypi_downloads_mv');
    expect(status.out).toContain(`view-backfill-pypi_downloads_mv → ${db}.pypi_downloads: completed`);
    expect(status.out).toMatch(/cutoff \S+Z: the view writes the rows from it on, the backfill the rows before it/);
    expect(status.out).toContain('partitions: 1 swapped, 0 failed, 0 pending of 1');
  });

  it('start --dry-run prints every statement and creates nothing; the view it prints is the one the run creates', async () => {
    // A fixed cutoff, so that the dry run and the run plan the same one; the run must plan it at least 2 s ahead, and
    // the dry run (in this process) takes about a second.
    const cutoff = new Date((Math.ceil(Date.now() / 1000) + 8) * 1000).toISOString().replace('.000Z', 'Z');
    const job = pypiViewJob('pypi-downloads.yaml', db, {
      target: { table: `${db}.dry_target` },
      view: { name: 'dry_mv' },
      cutoff,
    });
    const file = jobFile(job);
    const dry = await dryRun(h, db, file);
    if (process.env.PLAN_OUT) writeFileSync(process.env.PLAN_OUT, dry.out);
    const { steps } = dry;
    expect(dry.out).toContain(`view ${db}.dry_mv (to create) → target ${db}.dry_target (to create)`);
    expect(dry.out).toContain(`cutoff ${cutoff}: the view writes the rows from it on`);
    expect(steps).toEqual([
      'create the target',
      'create the view',
      // A ranged fill: no Null-fill helpers to drop.
      ...['prepare', 'prepare', 'fill', 'move', 'cleanup'].map((step) => `partition all: ${step}`),
    ]);
    expect(dry.out).toContain(
      'ALTER TABLE {shadow_db:Identifier}.{shadow:Identifier} MOVE PARTITION ID {partition_id:String}',
    );
    expect(dry.out).toContain(`"shadow":"dry_target_v2_all_TAG"`);
    const printed = /^CREATE MATERIALIZED VIEW IF NOT EXISTS [^;]*;$/m.exec(dry.out)?.[0] ?? '';
    expect(printed).toContain(`\`${db}\`.\`dry_mv\` TO \`${db}\`.\`dry_target\``);
    expect(printed).toContain(`toDateTime(${Date.parse(cutoff) / 1000})`);

    const run = await cli('start', '--job', file);

    expect(run.code).toBe(0);
    const [created] = await h.ch.rows(
      statementOf<{ same: number; target: string }>({
        query: `SELECT formatQuerySingleLine(as_select) = formatQuerySingleLine({printed:String}) AS same,
        target_table AS target FROM system.tables WHERE database = {db:String} AND name = 'dry_mv'`,
        params: { db, printed: printed.slice(printed.indexOf('\nAS ') + 4, -1) },
      }),
    );
    expect(created).toEqual({ same: 1, target: 'dry_target' });
    const { target, source: view } = await targetAndSource(h.ch, db, 'dry_target', 'project', 'sum(count)', 'project');
    expect(target).toEqual(view);
  });

  it('start --dry-run and plan refuse a bad view job as the run would, before any DDL; an aggregate job needs its range', async () => {
    const before = await tables();
    const past = jobFile(
      pypiViewJob('pypi-downloads.yaml', db, {
        target: { table: `${db}.late_target` },
        view: { name: 'late_mv' },
        cutoff: '2020-01-01T00:00:00Z',
      }),
    );
    const aggregate = path.join(tmpdir(), `aggregate-job-${randomUUID()}.json`);
    writeFileSync(aggregate, JSON.stringify(exampleJob(db)));

    const late = await cli('start', '--job', past, '--dry-run');
    const planned = await cli('plan', '--job', past);
    const unranged = await cli('start', '--job', aggregate, '--dry-run');

    expect(late.code).toBe(1);
    expect(late.err).toContain('2020-01-01T00:00:00Z is already past');
    expect(planned.code).toBe(1);
    expect(planned.err).toContain('2020-01-01T00:00:00Z is already past');
    expect(unranged.code).toBe(1);
    expect(unranged.err).toContain('is an aggregate job: give the range of days with --from and --to');
    expect(await tables()).toEqual(before);
  });

  it('pause holds every partition after the cutoff, status says so, resume completes it exactly', async () => {
    const id = `view-cli-pause-${randomUUID()}`;
    const started = await cli('start', '--job', jobFile(hourlyJob('hourly_paused')), '--workflow-id', id, '--no-wait');
    expect(started.out).toBe(`started ${id}`);
    expect((await cli('pause', id, '--reason', 'cli test')).code).toBe(0);

    const handle = h.env.client.workflow.getHandle(id);
    await progressUntil(handle, (p) => p.phase === 'paused', 'paused after the cutoff');
    const paused = await cli('status', id);
    expect(paused.out).toContain(`${id} → ${db}.hourly_paused: paused (by operator: cli test)`);
    const n = await months();
    expect(paused.out).toContain(`partitions: 0 swapped, 0 failed, ${n} pending of ${n}`);
    // The view exists but no row reached it after the cutoff, and nothing was moved in.
    expect(await rowsOf('hourly_paused')).toBe(0);

    expect((await cli('resume', id)).code).toBe(0);
    await handle.result();
    const done = await cli('status', id);
    expect(done.out).toContain(`partitions: ${n} swapped, 0 failed, 0 pending of ${n}`);
    const { target, source: view } = await targetAndSource(
      h.ch,
      db,
      'hourly_paused',
      'hour, project',
      'sum(count)',
      'toStartOfHour(timestamp) AS hour, project',
    );
    expect(target).toEqual(view);
  });

  it('cancel of a paused view backfill moves nothing into the target and leaves no shadow', async () => {
    const id = `view-cli-cancel-${randomUUID()}`;
    await cli('start', '--job', jobFile(hourlyJob('hourly_cancelled')), '--workflow-id', id, '--no-wait');
    await cli('pause', id);
    await progressUntil(h.env.client.workflow.getHandle(id), (p) => p.phase === 'paused', 'paused after the cutoff');

    const cancelled = await cli('cancel', id);

    expect(cancelled.code).toBe(0);
    expect(cancelled.out).toContain(`${id}: cancelled`);
    expect(cancelled.out).toContain('swapped in (kept): none');
    expect(cancelled.out).toContain(`never started: ${await months()}`);
    expect(await rowsOf('hourly_cancelled')).toBe(0);
    expect((await tables()).filter((t) => t.startsWith('hourly_cancelled_v2_'))).toEqual([]);
  });
});
