import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import type { ImportSummary } from '../../src/shared/import-input';
import type { BackfillProgress } from '../../src/shared/progress';
import { createPypiTable, insertPypiRows } from '../../examples/demo/sql/pypi-demo';
import { findTemporalCli } from '../../src/temporal/temporal-cli-path';
import { createHarness, type Harness } from '../helpers/backfill-harness';
import { freshDatabase } from '../helpers/chdb-env';
import { progressUntil } from '../helpers/progress-until';
import { runCliOn } from '../helpers/run-cli-captured';
import {
  createPypiWithViews,
  dryRun,
  pypiImportJob,
  pypiViewTargets,
  rowsOf as rowsOfTable,
  tablesOf,
  viewJobFile,
} from '../helpers/view-jobs';
import type { TableRef } from '../../src/shared/table-ref';

/*
 * An import job (`kind: import`) driven through `ch-backfill` (start, --dry-run, status, pause, resume, cancel) and
 * through the Temporal CLI with input `{ "job": … }`. Every check reads table contents.
 */

const HISTORY_ROWS = 60_000;
const LIVE_ROWS = 10_000;

describe('ch-backfill and the Temporal CLI with an import job', () => {
  let h: Harness;
  let db: string;

  const cli = (...args: string[]) => runCliOn(h, ...args);
  const jobFile = viewJobFile;
  const tables = (): Promise<string[]> => tablesOf(h.ch, db);
  const rowsOf = (table: string): Promise<number> => rowsOfTable(h.ch, db, table);
  /** Both view targets equal their views over every row of pypi, and no duplicate is left. */
  const consistent = async (): Promise<number> => {
    const { downloads, perDay } = await pypiViewTargets(h.ch, db);
    expect(downloads.target).toEqual(downloads.source);
    expect(perDay.target).toEqual(perDay.source);
    expect((await tables()).filter((t) => t.includes('_v2_'))).toEqual([]);
    return Number(downloads.source.total);
  };

  beforeAll(async () => {
    h = await createHarness();
    db = await freshDatabase(h.ch, 'importcli');
    const t = (name: string): TableRef => ({ database: db, name });
    // The live rows go through the guide's two views into their targets, as ingestion writes them.
    await createPypiWithViews(h.ch, db);
    await h.ch.exec(createPypiTable(t('pypi_plain')));
    for (const main of ['pypi', 'pypi_plain']) {
      await h.ch.exec(insertPypiRows(t(main), LIVE_ROWS, '2024-06-01 00:00:00', '2024-06-05 00:00:00'));
    }
    await h.ch.exec(createPypiTable(t('pypi_history')));
    await h.ch.exec(insertPypiRows(t('pypi_history'), HISTORY_ROWS, '2024-01-01 00:00:00', '2024-03-01 00:00:00'));
    h.serve();
  });

  afterAll(async () => {
    await h?.close();
  });

  it('start --dry-run lists every table and view a run creates and its statements, creating nothing', async () => {
    const file = jobFile(pypiImportJob(db));
    const dry = await dryRun(h, db, file);
    const { steps } = dry;
    expect(dry.out).toContain(`history ${db}.pypi_history → ${db}.pypi (partition key: toYYYYMM(timestamp))`);
    expect(dry.out).toContain('checkpoint 2024-06-01T00:00:00Z (auto: min(timestamp) now)');
    expect(dry.out).toContain(`view ${db}.pypi_downloads_mv → ${db}.pypi_downloads: SELECT project, count() AS count`);
    expect(dry.out).toContain(`target ${db}.pypi_downloads (SummingMergeTree): validation compares sum(count)`);
    expect(dry.out).toMatch(/batches, newest first: 202402 \([\d,]+ rows\), 202401 \([\d,]+ rows\)/);
    const creates = ['202402', '202401'].flatMap((b) => [
      `${db}.pypi_v2_${b}_TAG`,
      `${db}.pypi_downloads_v2_${b}_TAG`,
      `${db}.pypi_downloads_per_day_v2_${b}_TAG`,
      `${db}.pypi_downloads_mv_v2_${b}_TAG (materialized view)`,
      `${db}.pypi_downloads_per_day_mv_v2_${b}_TAG (materialized view)`,
    ]);
    expect(dry.out).toContain(`a run creates: ${creates.join(', ')}`);
    expect(steps.filter((s) => s.startsWith('batch 202402: '))).toEqual([
      ...Array<string>(10).fill('batch 202402: prepare'),
      ...Array<string>(4).fill('batch 202402: fill'),
      'batch 202402: move (each partition pypi_downloads_v2_202402_TAG holds)',
      'batch 202402: move (each partition pypi_downloads_per_day_v2_202402_TAG holds)',
      'batch 202402: move (each partition pypi_v2_202402_TAG holds)',
      ...Array<string>(5).fill('batch 202402: cleanup'),
    ]);
    // The view copies read the main table's duplicate, and write the target duplicates.
    expect(dry.out).toContain(
      `CREATE MATERIALIZED VIEW \`${db}\`.\`pypi_downloads_mv_v2_202402_TAG\` TO \`${db}\`.\`pypi_downloads_v2_202402_TAG\`\n` +
        `AS SELECT project, count() AS count FROM \`${db}\`.\`pypi_v2_202402_TAG\` GROUP BY project;`,
    );
    expect(dry.out).toContain('"partition_id":"202402"');
  });

  it('refuses --from/--to and a bad import job before anything is started or created', async () => {
    const before = await tables();
    const ranged = await cli(
      'start',
      '--job',
      jobFile(pypiImportJob(db)),
      '--from',
      '2024-01-01',
      '--to',
      '2024-01-31',
    );
    const future = await cli(
      'start',
      '--job',
      jobFile(pypiImportJob(db, { checkpoint: '2100-01-01T00:00:00Z' })),
      '--dry-run',
    );
    expect(ranged.code).toBe(1);
    expect(ranged.err).toContain('is an import job: it loads every history row before its checkpoint');
    expect(future.code).toBe(1);
    expect(future.err).toContain('checkpoint: 2100-01-01T00:00:00Z is in the future');
    expect(await tables()).toEqual(before);
  });

  it('cancel of a paused import leaves every table consistent; started again, it loads the rest exactly', async () => {
    const file = jobFile(pypiImportJob(db));
    const id = `import-cli-cancel-${randomUUID()}`;
    expect((await cli('start', '--job', file, '--workflow-id', id, '--no-wait')).out).toBe(`started ${id}`);
    expect((await cli('pause', id, '--reason', 'cli test')).code).toBe(0);
    const handle = h.env.client.workflow.getHandle(id);
    await progressUntil(handle, (p) => p.phase === 'paused', 'paused');
    const paused = await cli('status', id);
    expect(paused.out).toContain(`${id} → ${db}.pypi: paused (by operator: cli test)`);
    expect(paused.out).toContain('checkpoint 2024-06-01T00:00:00Z: the history before it is loaded');

    const cancelled = await cli('cancel', id);

    expect(cancelled.out).toContain(`${id}: cancelled`);
    // Whatever batch had begun is in every table or in none.
    const total = await consistent();
    expect(await rowsOf('pypi')).toBe(total);

    const run = await cli('start', '--job', file, '--workflow-id', `import-cli-${randomUUID()}`);

    expect(run.err).toBe('');
    expect(run.code).toBe(0);
    expect(run.out).toContain(`partitions swapped into ${db}.pypi, 0 failed`);
    expect(run.out).toContain(`were loaded into ${db}.pypi, ${db}.pypi_downloads, ${db}.pypi_downloads_per_day`);
    expect(await consistent()).toBe(LIVE_ROWS + HISTORY_ROWS);
    expect(await rowsOf('pypi')).toBe(LIVE_ROWS + HISTORY_ROWS);
  });

  it('`temporal workflow start --type importWorkflow` with input { "job": … } runs it; progress shows the checkpoint', async () => {
    const workflowId = `temporal-cli-import-${randomUUID()}`;
    const job = pypiImportJob(db, { target: { table: `${db}.pypi_plain`, timeColumn: 'timestamp' } });
    const temporal = (args: string[]) =>
      promisify(execFile)(findTemporalCli(), [...args, '--address', h.env.address, '--namespace', 'default'], {
        timeout: 60_000,
      });
    await temporal([
      ...['workflow', 'start', '--task-queue', h.taskQueue, '--type', 'importWorkflow'],
      ...['--workflow-id', workflowId, '--input', JSON.stringify({ job })],
    ]);

    const summary = await h.env.client.workflow.getHandle<() => Promise<ImportSummary>>(workflowId).result();

    expect(summary.partitions.map((p) => p.partition)).toEqual(['202402', '202401']);
    expect(summary.tables).toEqual([`${db}.pypi_plain`]);
    expect(await rowsOf('pypi_plain')).toBe(LIVE_ROWS + HISTORY_ROWS);
    const { stdout } = await temporal([
      'workflow',
      'query',
      '--workflow-id',
      workflowId,
      '--name',
      'progress',
      '--output',
      'json',
    ]);
    const progress = (JSON.parse(stdout) as { queryResult: BackfillProgress[] }).queryResult[0];
    expect(progress).toMatchObject({ phase: 'completed', checkpoint: '2024-06-01T00:00:00Z', done: 2, total: 2 });
  });
});
