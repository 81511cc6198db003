import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import { createDemoEventsTable, insertDemoEvents } from '../../examples/demo/sql/demo-events';
import { createHarness, exampleJob, type Harness } from '../helpers/backfill-harness';
import { freshDatabase } from '../helpers/chdb-env';

const REPO = path.resolve(__dirname, '..', '..');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `ch-backfill <args>` as its own process, the way a user does, and collects what it prints. */
function runCliProcess(env: Record<string, string>, ...args: string[]): Promise<Run> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/bin/cli.ts', ...args], {
    cwd: REPO,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve) => child.once('close', (code) => resolve({ code, stdout, stderr })));
}

type LooseJob = Record<string, unknown> & {
  source: { table: string };
  date: { column: string; expression: string };
  metrics: Record<string, string>;
};

describe('a refused backfill started from the CLI names the field and the workflow to inspect', () => {
  let h: Harness;
  let db: string;
  let dir: string;

  beforeAll(async () => {
    h = await createHarness();
    db = await freshDatabase(h.ch, 'cli_errors');
    const events = { database: db, name: 'events' };
    await h.ch.exec(createDemoEventsTable(events));
    await h.ch.exec(insertDemoEvents(events, '2024-01-01', 1, 1_000));
    dir = mkdtempSync(path.join(tmpdir(), 'cli-errors-'));
    h.serve();
  });

  afterAll(async () => {
    await h?.close();
  });

  it.each<[string, (job: LooseJob, db: string) => void, RegExp]>([
    [
      'an unknown column in a metric',
      (j) => void (j.metrics.daily_sum_ctr = 'sum(clicks)'),
      /metrics\.daily_sum_ctr: column "clicks" does not exist/,
    ],
    [
      'a metric that is not an aggregate',
      (j) => void (j.metrics.hours = 'toHour(ts)'),
      /metrics\.hours: "toHour" is not an aggregate function/,
    ],
    [
      'a date expression that yields DateTime',
      (j) => void (j.date.expression = 'toStartOfHour(ts)'),
      /date\.expression: "toStartOfHour\(ts\)" yields DateTime, not a Date/,
    ],
    [
      'an unknown source table',
      (j, db) => void (j.source.table = `${db}.no_such_events`),
      /source\.table: table \w+\.no_such_events does not exist/,
    ],
  ])('%s', async (_, edit, fieldMessage) => {
    const job = exampleJob(db) as LooseJob;
    edit(job, db);
    const jobFile = path.join(dir, `${randomUUID()}.yaml`);
    writeFileSync(jobFile, stringify(job));
    const workflowId = `cli-error-${randomUUID()}`;

    const run = await runCliProcess(
      { TEMPORAL_ADDRESS: h.env.address, TEMPORAL_TASK_QUEUE: h.taskQueue },
      ...['start', '--job', jobFile, '--from', '2024-01-01', '--to', '2024-01-31', '--workflow-id', workflowId],
    );

    expect(run.code).toBe(1);
    const line = run.stderr.split('\n').find((l) => l.startsWith('ch-backfill: '));
    expect(line).toMatch(fieldMessage);
    expect(line).toContain(`workflow ${workflowId} failed: `);
    expect(line).toContain(`temporal workflow show --workflow-id ${workflowId}`);
    expect(line).not.toContain('Activity task failed');
  });
});
