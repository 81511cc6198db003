import { randomUUID } from 'node:crypto';
import { WorkflowFailedError } from '@temporalio/client';
import type { StepPoint } from '../../src/activities';
import { progressQuery } from '../../src/shared/messages';
import type { ViewJobInput } from '../../src/shared/job-spec';
import type { ViewSnapshotSummary } from '../../src/shared/snapshot-input';
import { insertPypiRows } from '../../examples/demo/sql/pypi-demo';
import { createHarness, type Harness } from '../helpers/backfill-harness';
import { freshDatabase } from '../helpers/chdb-env';
import { progressUntil } from '../helpers/progress-until';
import { runCliOn } from '../helpers/run-cli-captured';
import {
  dryRun,
  hourlyTargetAndSource,
  pypiMonths,
  pypiViewJob,
  rowsOf,
  seedPypi,
  tablesOf,
  viewJobFile,
  whileIngesting,
} from '../helpers/view-jobs';
import type { TableRef } from '../../src/shared/table-ref';

/*
 * A view job over a source without a usable time column (`cutoff: snapshot`, the guide's last scenario), driven
 * through `ch-backfill`: start, status, confirm, pause, resume, cancel, the dry run and the refusals. Every check
 * reads table contents: the target against the view's query over every row of the source.
 */

const HISTORY = 200_000;

describe('kind: view with cutoff: snapshot — a view over a table without a timestamp column', () => {
  let h: Harness;
  let db: string;
  let pypi: TableRef;
  /** What the worker's steps do at their step points, set by a test. */
  let atStep: ((point: StepPoint, partition: string) => Promise<void>) | undefined;

  const cli = (...args: string[]) => runCliOn(h, ...args);
  const jobFile = viewJobFile;
  /** The guide's hourly view over `pypi` by snapshot, on its own target and view. */
  const snapshotJob = (name: string, overrides: Partial<ViewJobInput> = {}): ViewJobInput =>
    pypiViewJob('pypi-downloads-per-day-snapshot.yaml', db, {
      target: { table: `${db}.${name}`, engine: 'SummingMergeTree', partitionBy: 'month' },
      view: { name: `${name}_mv` },
      ...overrides,
    });
  const tables = (): Promise<string[]> => tablesOf(h.ch, db);
  const sourceRows = (): Promise<number> => rowsOf(h.ch, db, 'pypi');
  /** The target read per (hour, project) next to the view's query over every row of `pypi`. */
  const hourly = (target: string) => hourlyTargetAndSource(h.ch, db, target);
  const months = (): Promise<number> => pypiMonths(h.ch, db);
  const awaitingConfirm = (id: string) =>
    progressUntil(h.env.client.workflow.getHandle(id), (p) => p.snapshot?.state === 'awaiting-confirm', 'confirm');

  beforeAll(async () => {
    h = await createHarness();
    db = await freshDatabase(h.ch, 'snap');
    pypi = await seedPypi(h.ch, db, HISTORY, '2024-01-01 00:00:00', '2024-03-01 00:00:00');
    h.serve({ onStep: (point, partition) => atStep?.(point, partition) });
  });

  afterAll(async () => {
    await h?.close();
  });

  it('the dry run prints the snapshot, its ATTACH statements, the view without a cutoff and each partition, creating nothing', async () => {
    const file = jobFile(snapshotJob('dry'));
    const dry = await dryRun(h, db, file);
    const { steps } = dry;
    expect(dry.out).toContain(
      `source ${db}.pypi → snapshot ${db}.pypi_snapshot_TAG → view ${db}.dry_mv (to create) → target ${db}.dry (to create)`,
    );
    expect(dry.out).toContain(`a run waits for ch-backfill confirm <id> once inserts into ${db}.pypi are paused`);
    expect(dry.out).toMatch(/source partitions the snapshot attaches now: 202401 \([\d,]+ rows\), 202402 \(/);
    const partition = (id: string) =>
      [
        'prepare',
        'prepare',
        'prepare',
        'prepare',
        'prepare',
        'prepare',
        'fill',
        'move',
        'cleanup',
        'cleanup',
        'cleanup',
      ].map((step) => `partition ${id}: ${step}`);
    expect(steps).toEqual([
      'snapshot',
      'snapshot',
      'snapshot: partition 202401',
      'snapshot: partition 202402',
      'create the target',
      'create the view',
      ...partition('202401'),
      ...partition('202402'),
      'drop the snapshot',
    ]);
    expect(dry.out).toContain(
      `CREATE TABLE {table_db:Identifier}.{table:Identifier} AS \`${db}\`.\`pypi\`;\n-- params: {"table_db":"${db}","table":"pypi_snapshot_TAG"}`,
    );
    expect(dry.out).toContain(
      `ALTER TABLE {into_db:Identifier}.{into:Identifier} ATTACH PARTITION ID {partition_id:String} FROM \`${db}\`.\`pypi\`;\n` +
        `-- params: {"into_db":"${db}","into":"pypi_snapshot_TAG","partition_id":"202401"}`,
    );
    const view = /^CREATE MATERIALIZED VIEW IF NOT EXISTS [^;]*;$/m.exec(dry.out)?.[0] ?? '';
    expect(view).toContain(`FROM \`${db}\`.\`pypi\`\nGROUP BY`);
    expect(view).not.toContain('WHERE');
    // The fill reads the snapshot, all of it.
    expect(dry.out).toContain(`"source":"pypi_snapshot_TAG"`);
    expect(dry.out).not.toContain('cutoff');
  });

  it('rows before the confirm and rows inserted once inserts may resume are each counted once; confirm and status through the CLI', async () => {
    const id = `snapshot-${randomUUID()}`;
    const started = await cli('start', '--job', jobFile(snapshotJob('hourly')), '--workflow-id', id, '--no-wait');
    expect(started.out).toBe(`started ${id}\npause inserts into ${db}.pypi, then run: ch-backfill confirm ${id}`);
    await awaitingConfirm(id);

    const waiting = await cli('status', id);
    expect(waiting.out).toContain(`${id} → ${db}.hourly: waiting`);
    expect(waiting.out).toContain(
      `waiting for confirm: pause inserts into ${db}.pypi, then run ch-backfill confirm ${id}`,
    );
    expect((await tables()).filter((t) => t.startsWith('hourly') || t.startsWith('pypi_snapshot'))).toEqual([]);
    const confirmedAt = await sourceRows();

    const confirmed = await cli('confirm', id);

    expect(confirmed.err).toBe('');
    expect(confirmed.code).toBe(0);
    expect(confirmed.out).toContain(`confirm accepted by ${id}`);
    expect(confirmed.out).toMatch(
      new RegExp(
        `inserts may resume into ${db}\\.pypi since \\S+Z: the view writes every row inserted from then on, ` +
          `the backfill the ${confirmedAt.toLocaleString('en-US')} rows of the snapshot ${db}\\.pypi_snapshot_[0-9a-f]{8}`,
      ),
    );
    // Inserts resume: into the partitions the backfill fills, and live ones.
    await h.ch.exec(insertPypiRows(pypi, 10_000, '2024-01-10 00:00:00', '2024-02-10 00:00:00'));
    const { result: summary } = await whileIngesting(
      h.ch,
      pypi,
      () => h.env.client.workflow.getHandle(id).result() as Promise<ViewSnapshotSummary>,
    );

    expect(summary.partitions.map((p) => p.partition)).toEqual(['202401', '202402']);
    expect(summary.failed).toEqual([]);
    expect(Object.values(summary.totals.checksPassed).every((n) => n === summary.partitions.length)).toBe(true);
    expect(summary.snapshotRows).toBe(confirmedAt);
    expect(summary.rowsRead).toBe(confirmedAt);
    const { target, source } = await hourly('hourly');
    expect(target).toEqual(source);
    expect(Number(source.total)).toBe(await sourceRows());
    expect(Number(source.total)).toBeGreaterThan(confirmedAt + 10_000);
    expect((await tables()).filter((t) => t.includes('_snapshot_') || t.includes('_v2_'))).toEqual([]);

    const done = await cli('status', id);
    expect(done.out).toContain(`${id} → ${db}.hourly: completed`);
    expect(done.out).toContain(`inserts may resume into ${db}.pypi since`);
    expect(done.out).toMatch(new RegExp(`snapshot ${db}\\.pypi_snapshot_[0-9a-f]{8} dropped`));
    expect(done.out).toContain('partitions: 2 swapped, 0 failed, 0 pending of 2');
  });

  it('a confirm while rows still arrive takes no snapshot and creates nothing; the job waits for another confirm', async () => {
    const id = `snapshot-busy-${randomUUID()}`;
    await cli('start', '--job', jobFile(snapshotJob('busy')), '--workflow-id', id, '--no-wait');
    await awaitingConfirm(id);
    // Inserts were not paused: rows arrive while the snapshot is taken.
    let arrived = false;
    atStep = async (point) => {
      if (point !== 'snapshot:attached' || arrived) return;
      arrived = true;
      await h.ch.exec(insertPypiRows(pypi, 1_000, '2024-01-20 00:00:00', '2024-01-21 00:00:00'));
    };
    const rowsBefore = await sourceRows();

    const refused = await cli('confirm', id);

    atStep = undefined;
    expect(refused.code).toBe(1);
    expect(refused.err).toContain(
      `nothing was created: ${db}.pypi went from ${rowsBefore} to ${rowsBefore + 1_000} rows while it was snapshotted`,
    );
    expect(refused.err).toContain(`run ch-backfill confirm ${id} again`);
    expect((await tables()).filter((t) => t.startsWith('busy') || t.includes('_snapshot_'))).toEqual([]);
    const status = await cli('status', id);
    expect(status.out).toContain(
      `waiting for confirm: pause inserts into ${db}.pypi, then run ch-backfill confirm ${id}`,
    );
    expect(status.out).toContain('(the last confirm created nothing:');

    const confirmed = await cli('confirm', id);

    expect(confirmed.code).toBe(0);
    expect(confirmed.out).toContain(`inserts may resume into ${db}.pypi`);
    const summary = (await h.env.client.workflow.getHandle(id).result()) as ViewSnapshotSummary;
    expect(summary.snapshotRows).toBe(rowsBefore + 1_000);
    const { target, source } = await hourly('busy');
    expect(target).toEqual(source);
  });

  it('pause holds the partitions but not the snapshot: the confirm still lets inserts resume; resume fills the target exactly', async () => {
    const id = `snapshot-paused-${randomUUID()}`;
    await cli('start', '--job', jobFile(snapshotJob('paused')), '--workflow-id', id, '--no-wait');
    expect((await cli('pause', id, '--reason', 'cli test')).code).toBe(0);
    await awaitingConfirm(id);

    const confirmed = await cli('confirm', id);

    expect(confirmed.code).toBe(0);
    expect(confirmed.out).toContain(`inserts may resume into ${db}.pypi`);
    const handle = h.env.client.workflow.getHandle(id);
    await progressUntil(handle, (p) => p.phase === 'paused' && p.total > 0, 'paused with its partitions listed');
    const paused = await cli('status', id);
    expect(paused.out).toContain(`${id} → ${db}.paused: paused (by operator: cli test)`);
    // History and the months the ingestion of an earlier test wrote into.
    const n = await months();
    expect(paused.out).toContain(`partitions: 0 swapped, 0 failed, ${n} pending of ${n}`);
    // The view exists, no row arrived since, and nothing was moved in.
    expect(await tables()).toEqual(expect.arrayContaining(['paused', 'paused_mv']));
    expect((await hourly('paused')).target.groups).toBe('0');

    await h.ch.exec(insertPypiRows(pypi, 5_000, '2024-02-01 00:00:00', '2024-02-02 00:00:00'));
    expect((await cli('resume', id)).code).toBe(0);
    await handle.result();

    const { target, source } = await hourly('paused');
    expect(target).toEqual(source);
  });

  it('cancel before the confirm creates nothing; cancel after it drops the snapshot and keeps the view', async () => {
    const early = `snapshot-cancel-early-${randomUUID()}`;
    await cli('start', '--job', jobFile(snapshotJob('early')), '--workflow-id', early, '--no-wait');
    await awaitingConfirm(early);
    const before = await tables();

    const cancelledEarly = await cli('cancel', early);

    expect(cancelledEarly.out).toContain(`${early}: cancelled`);
    expect(await tables()).toEqual(before);
    expect(before.filter((t) => t.startsWith('early'))).toEqual([]);

    const late = `snapshot-cancel-late-${randomUUID()}`;
    await cli('start', '--job', jobFile(snapshotJob('late')), '--workflow-id', late, '--no-wait');
    await cli('pause', late);
    await awaitingConfirm(late);
    await cli('confirm', late);

    const taken = (await h.env.client.workflow.getHandle(late).query(progressQuery)).snapshot?.table.split('.')[1];
    expect(await tables()).toContain(taken);

    const cancelledLate = await cli('cancel', late);

    expect(cancelledLate.out).toContain(`${late}: cancelled`);
    expect(cancelledLate.out).toContain('swapped in (kept): none');
    const after = await tables();
    expect(after).toEqual(expect.arrayContaining(['late', 'late_mv']));
    expect(after).not.toContain(taken);
    expect(after.filter((t) => t.startsWith('late_v2_'))).toEqual([]);
    const status = await cli('status', late);
    expect(status.out).toMatch(new RegExp(`snapshot ${db}\\.pypi_snapshot_[0-9a-f]{8} dropped`));
  });

  describe('bad input is refused before any DDL, pointing to the right form', () => {
    /** The innermost message of a workflow started with `job`, which must fail leaving every table as it was. */
    const refusal = async (workflowType: string, job: ViewJobInput): Promise<string> => {
      const before = await tables();
      const err = await h.env.client.workflow
        .execute(workflowType, { taskQueue: h.taskQueue, workflowId: `snapshot-bad-${randomUUID()}`, args: [{ job }] })
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      expect(err).toBeInstanceOf(WorkflowFailedError);
      expect(await tables()).toEqual(before);
      let cause = (err as Error).cause as Error | undefined;
      while (cause?.cause) cause = cause.cause as Error;
      return cause?.message ?? '';
    };

    it('a view of that name that already exists, whatever its definition', async () => {
      // hourly_mv is the view of the second test: exactly this job's.
      expect(await refusal('viewSnapshotWorkflow', snapshotJob('hourly'))).toMatch(
        /^view\.name: .*hourly_mv already exists .*a snapshot job creates its view itself/,
      );
    });

    it('a target that already holds rows', async () => {
      const job = snapshotJob('hourly', { view: { name: 'another_mv' } });
      expect(await refusal('viewSnapshotWorkflow', job)).toMatch(
        /^target\.table: .*\.hourly already holds \d+ rows; a snapshot job fills it with every row/,
      );
    });

    it('a target whose columns do not fit the SELECT', async () => {
      await h.ch.exec({
        query: `CREATE TABLE ${db}.wrong (hour DateTime, project String, count Float64) ENGINE = SummingMergeTree PARTITION BY toYYYYMM(hour) ORDER BY (hour, project)`,
        params: {},
      });
      expect(await refusal('viewSnapshotWorkflow', snapshotJob('wrong'))).toMatch(
        /^target\.table: .*has columns "hour DateTime, project String, count Float64"/,
      );
    });

    it('a source without partitions to attach', async () => {
      await h.ch.exec({
        query: `CREATE TABLE ${db}.memory_pypi (timestamp DateTime, project String) ENGINE = Memory`,
        params: {},
      });
      const job = snapshotJob('from_memory', { source: { table: `${db}.memory_pypi` } });
      expect(await refusal('viewSnapshotWorkflow', job)).toMatch(
        /^source\.table: .*memory_pypi is a Memory table: a snapshot attaches its partitions/,
      );
    });

    it('a snapshot job started as viewBackfillWorkflow, and a timed job as viewSnapshotWorkflow', async () => {
      expect(await refusal('viewBackfillWorkflow', snapshotJob('misrouted'))).toMatch(
        /^cutoff: a cutoff: snapshot job runs as viewSnapshotWorkflow/,
      );
      const timed = pypiViewJob('pypi-downloads.yaml', db, {
        target: { table: `${db}.timed` },
        view: { name: 'timed_mv' },
      });
      expect(await refusal('viewSnapshotWorkflow', timed)).toMatch(
        /^cutoff: viewSnapshotWorkflow takes cutoff: snapshot jobs; a job with cutoff auto runs as viewBackfillWorkflow/,
      );
    });

    it('a timed job whose time column is not a DateTime is pointed to cutoff: snapshot', async () => {
      const job = pypiViewJob('pypi-downloads.yaml', db, {
        source: { table: `${db}.pypi`, timeColumn: 'url' },
        target: { table: `${db}.timed` },
        view: { name: 'timed_mv' },
      });
      expect(await refusal('viewBackfillWorkflow', job)).toMatch(
        /^source\.timeColumn: "url" is String; the cutoff needs a DateTime \(for a source without a usable time column, omit source\.timeColumn and set cutoff: snapshot\)/,
      );
    });

    it('the job file itself: a time column with cutoff: snapshot, or none without it (by the CLI, before starting)', async () => {
      const before = await tables();
      const both = await cli(
        'start',
        '--job',
        jobFile({ ...snapshotJob('x'), source: { table: `${db}.pypi`, timeColumn: 'timestamp' } }),
      );
      const neither = await cli('start', '--job', jobFile({ ...snapshotJob('x'), cutoff: 'auto' }));

      expect(both.code).toBe(1);
      expect(both.err).toContain('source.timeColumn: not used with cutoff: snapshot');
      expect(neither.code).toBe(1);
      expect(neither.err).toContain('source.timeColumn: required: the DateTime column the cutoff applies to');
      expect(neither.err).toContain('omit it and set cutoff: snapshot');
      expect(await tables()).toEqual(before);
    });
  });
});
