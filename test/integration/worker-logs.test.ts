import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { createDemoEventsTable, insertDemoEvents } from '../../examples/demo/sql/demo-events';
import { exampleJob } from '../helpers/backfill-harness';
import { withClickHouse } from '../helpers/crash-workers';
import { createTestTemporal } from '../helpers/temporal-env';

const REPO = path.resolve(__dirname, '..', '..');
const EVENTS = { database: 'default', name: 'events' };

type LogLine = Record<string, unknown>;

/**
 * `npm run worker` as its own process, with credentials in its environment and `LOG_LEVEL=debug`, serving a
 * successful backfill and a refused one; then every line it printed is examined.
 */
describe('the worker logs JSON lines with workflow id, partition and step, and never a credential', () => {
  const password = `pw-${randomUUID()}`;
  const apiKey = `key-${randomUUID()}`;
  const taskQueue = `worker-logs-${randomUUID()}`;
  const backfillId = `logs-backfill-${randomUUID()}`;
  const refusedId = `logs-refused-${randomUUID()}`;
  let env: TestWorkflowEnvironment;
  let stdout = '';
  let stderr = '';
  let lines: LogLine[];

  beforeAll(async () => {
    env = await createTestTemporal();
    const dataDir = mkdtempSync(path.join(tmpdir(), 'worker-logs-chdb-'));
    // The demo's events, written before the worker opens the data directory (the product's worker has no generator).
    await withClickHouse(dataDir, async (ch) => {
      await ch.exec(createDemoEventsTable(EVENTS));
      await ch.exec(insertDemoEvents(EVENTS, '2024-01-01', 2, 2_000));
    });
    const worker = spawn(process.execPath, ['--import', 'tsx', 'src/bin/worker.ts'], {
      cwd: REPO,
      env: {
        ...process.env,
        TEMPORAL_ADDRESS: env.address,
        TEMPORAL_TASK_QUEUE: taskQueue,
        // Sent as a bearer token; the dev server ignores it, and without TLS it needs no certificate.
        TEMPORAL_API_KEY: apiKey,
        TEMPORAL_TLS: 'false',
        CLICKHOUSE_PASSWORD: password,
        CLICKHOUSE_DATA_DIR: dataDir,
        LOG_LEVEL: 'debug',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    worker.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    worker.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<void>((resolve) => worker.once('close', () => resolve()));
    try {
      const run = (workflowType: string, workflowId: string, input: unknown) =>
        env.client.workflow.execute(workflowType, {
          taskQueue,
          workflowId,
          args: [input],
          workflowExecutionTimeout: '2m',
        });
      await run('backfillWorkflow', backfillId, { job: exampleJob('default'), from: '2024-01-01', to: '2024-02-29' });
      const refused = exampleJob('default', { target: { table: 'refused_daily' } }) as { metrics: object };
      refused.metrics = { ...refused.metrics, daily_sum_ctr: 'sum(clicks)' };
      await expect(
        run('backfillWorkflow', refusedId, { job: refused, from: '2024-01-01', to: '2024-01-31' }),
      ).rejects.toThrow();
    } finally {
      worker.kill('SIGTERM');
      await exited;
    }
    lines = stdout
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => JSON.parse(l) as LogLine);
  });

  afterAll(async () => {
    await env?.teardown();
  });

  it('prints only JSON lines, each with time, level and message', () => {
    expect(lines.length).toBeGreaterThan(10);
    for (const line of lines) {
      expect(line).toEqual(
        expect.objectContaining({ time: expect.any(String), level: expect.any(String), message: expect.any(String) }),
      );
    }
    expect(stderr.trim()).toBe('');
  });

  it("tags each partition step's lines with the workflow id, partition and step", () => {
    const partitionLines = lines.filter((l) => typeof l.partition === 'string');
    expect(partitionLines.length).toBeGreaterThan(0);
    expect(new Set(partitionLines.map((l) => l.partition))).toEqual(new Set(['202401', '202402']));
    for (const line of partitionLines) {
      expect(line.workflowId).toEqual(expect.stringMatching(/./));
      expect(line.step).toEqual(line.activityType);
    }
  });

  it("logs the workflows' own lines with their workflow id", () => {
    expect(lines.some((l) => l.sdkComponent === 'workflow' && l.workflowId === backfillId)).toBe(true);
  });

  it('logs a refusal with its step and the message naming the field', () => {
    const failed = lines.find((l) => l.message === 'Activity failed' && l.workflowId === refusedId);
    expect(failed).toMatchObject({ level: 'warn', step: 'planBackfill' });
    expect(JSON.stringify(failed)).toContain('metrics.daily_sum_ctr');
  });

  it('never prints the ClickHouse password or the Temporal API key', () => {
    expect(stdout + stderr).not.toContain(password);
    expect(stdout + stderr).not.toContain(apiKey);
  });
});
