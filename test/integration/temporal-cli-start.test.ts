import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import type { BackfillSummary } from '../../src/shared/backfill-results';
import type { BackfillProgress } from '../../src/shared/progress';
import { createDemoEventsTable, insertDemoEvents } from '../../examples/demo/sql/demo-events';
import { findTemporalCli } from '../../src/temporal/temporal-cli-path';
import { createHarness, exampleJob, type Harness } from '../helpers/backfill-harness';
import { freshDatabase } from '../helpers/chdb-env';
import { statementOf } from '../helpers/statement-of';

const execFileAsync = promisify(execFile);

/** Runs the real Temporal CLI against the test server and returns its stdout. */
async function temporal(h: Harness, args: string[]): Promise<string> {
  const { stdout } = await execFileAsync(
    findTemporalCli(),
    [...args, '--address', h.env.address, '--namespace', h.env.namespace ?? 'default'],
    { timeout: 60_000 },
  );
  return stdout;
}

describe('starting a backfill from the Temporal CLI', () => {
  let h: Harness;
  let db: string;

  beforeAll(async () => {
    h = await createHarness();
    db = await freshDatabase(h.ch, 'cli_start');
    const events = { database: db, name: 'events' };
    await h.ch.exec(createDemoEventsTable(events));
    await h.ch.exec(insertDemoEvents(events, '2024-01-01', 2, 20_000));
  });
  afterAll(() => h?.close());

  it('`temporal workflow start` with the job as JSON input runs the backfill, and `workflow query` shows progress', async () => {
    const workflowId = `cli-backfill-${randomUUID()}`;
    // The same object as a job file's `{ job, from, to }`, as JSON on the command line.
    const input = JSON.stringify({ job: exampleJob(db), from: '2024-01-01', to: '2024-02-29' });

    await h.withWorker(async () => {
      const started = await temporal(h, [
        'workflow',
        'start',
        '--task-queue',
        h.taskQueue,
        '--type',
        'backfillWorkflow',
        '--workflow-id',
        workflowId,
        '--input',
        input,
      ]);
      expect(started).toContain(workflowId);

      const summary = await h.env.client.workflow.getHandle<() => Promise<BackfillSummary>>(workflowId).result();
      expect(summary.partitions.map((p) => p.partition)).toEqual(['202401', '202402']);
      expect(summary.rowsRead).toBe(20_000);

      const progress = JSON.parse(
        await temporal(h, ['workflow', 'query', '--workflow-id', workflowId, '--name', 'progress', '--output', 'json']),
      ) as { queryResult: BackfillProgress[] };
      expect(progress.queryResult[0]).toMatchObject({
        phase: 'completed',
        target: `${db}.events_daily`,
        done: 2,
        failed: 0,
        total: 2,
        rowsWritten: summary.rowsWritten,
      });
    });

    const [target] = await h.ch.rows(
      statementOf<{ rows: string; events: string }>({
        query: 'SELECT count() AS rows, sum(daily_events) AS events FROM {db:Identifier}.events_daily',
        params: { db },
      }),
    );
    expect(Number(target.rows)).toBeGreaterThan(0);
    expect(target.events).toBe('20000');
  });

  it('bad input started from the CLI fails, and `temporal workflow result` names the field', async () => {
    const workflowId = `cli-bad-input-${randomUUID()}`;
    const job = exampleJob(db, {
      keys: ['user_id', 'host; DROP TABLE events'],
      target: { table: `${db}.cli_bad_daily` },
    });
    const input = JSON.stringify({ job, from: '2024-01-01', to: '2024-01-31' });

    const failure = await h.withWorker(async () => {
      const start = ['workflow', 'start', '--task-queue', h.taskQueue, '--type', 'backfillWorkflow'];
      await temporal(h, [...start, '--workflow-id', workflowId, '--input', input]);
      return temporal(h, ['workflow', 'result', '--workflow-id', workflowId]).then(
        (stdout) => ({ exitCode: 0, output: stdout }),
        (err: { code?: number; stdout?: string; stderr?: string }) => ({
          exitCode: err.code,
          output: `${err.stdout ?? ''}${err.stderr ?? ''}`,
        }),
      );
    });

    expect(failure.exitCode).not.toBe(0);
    expect(failure.output).toContain('is not a plain name');
    const tables = await h.ch.rows(
      statementOf<{ name: string }>({
        query: 'SELECT name FROM system.tables WHERE database = {db:String} AND startsWith(name, {prefix:String})',
        params: { db, prefix: 'cli_bad_daily' },
      }),
    );
    expect(tables).toEqual([]);
  });
});
