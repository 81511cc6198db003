import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { prometheusSeriesNames } from '../../src/shared/backfill-metrics';
import type { BackfillSummary } from '../../src/shared/backfill-results';
import { createDemoEventsTable, insertDemoEvents } from '../../examples/demo/sql/demo-events';
import { exampleJob } from '../helpers/backfill-harness';
import { withClickHouse } from '../helpers/crash-workers';
import { freePort } from '../../examples/demo/free-port';
import { createTestTemporal } from '../helpers/temporal-env';

const REPO = path.resolve(__dirname, '..', '..');
const EVENTS = { database: 'default', name: 'events' };

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** The samples of a Prometheus text exposition. */
function parseScrape(text: string): Sample[] {
  return text
    .split('\n')
    .filter((line) => line.trim() !== '' && !line.startsWith('#'))
    .map((line) => {
      const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
      if (!match) throw new Error(`not a sample line: ${line}`);
      const labels = Object.fromEntries(
        [...(match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1], m[2]]),
      );
      return { name: match[1], labels, value: Number(match[3]) };
    });
}

/** The sum of the samples named `name` whose labels include `labels`. */
function total(samples: Sample[], name: string, labels: Record<string, string> = {}): number {
  return samples
    .filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    .reduce((sum, s) => sum + s.value, 0);
}

/**
 * `npm run worker` as its own process with `METRICS_PORT` (the Temporal Runtime, which holds the exporter, can be
 * installed once per process), serving a real two-month backfill; its endpoint is scraped while it runs and after.
 */
describe('the worker serves Prometheus metrics on METRICS_PORT', () => {
  const taskQueue = `worker-metrics-${randomUUID()}`;
  let env: TestWorkflowEnvironment;
  let summary: BackfillSummary;
  let before: Sample[];
  let after: Sample[];
  let scrapeText: string;

  beforeAll(async () => {
    env = await createTestTemporal();
    const port = await freePort();
    const url = `http://127.0.0.1:${port}/metrics`;
    let stderr = '';
    const dataDir = mkdtempSync(path.join(tmpdir(), 'worker-metrics-chdb-'));
    // The demo's events, written before the worker opens the data directory (the product's worker has no generator).
    await withClickHouse(dataDir, async (ch) => {
      await ch.exec(createDemoEventsTable(EVENTS));
      await ch.exec(insertDemoEvents(EVENTS, '2024-01-01', 2, 20_000));
    });
    const worker = spawn(process.execPath, ['--import', 'tsx', 'src/bin/worker.ts'], {
      cwd: REPO,
      env: {
        ...process.env,
        TEMPORAL_ADDRESS: env.address,
        TEMPORAL_TASK_QUEUE: taskQueue,
        CLICKHOUSE_DATA_DIR: dataDir,
        METRICS_PORT: String(port),
        LOG_LEVEL: 'warn',
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    worker.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<void>((resolve) => worker.once('close', () => resolve()));
    const scrape = async () => {
      const response = await fetch(url);
      expect(response.status).toBe(200);
      return response.text();
    };
    /** The first scrape once the worker serves its endpoint and the SDK's own metrics are in it. */
    const firstScrape = async (): Promise<Sample[]> => {
      for (let i = 0; ; i++) {
        const samples = await scrape().then(parseScrape, (err: unknown) => {
          if (i >= 600) throw err;
          return [];
        });
        if (samples.some((s) => s.name.startsWith('temporal_')) || i >= 600) return samples;
        await new Promise((r) => setTimeout(r, 100));
      }
    };
    try {
      const run = (workflowType: string, input: unknown) =>
        env.client.workflow.execute(workflowType, {
          taskQueue,
          workflowId: `metrics-${workflowType}-${randomUUID()}`,
          args: [input],
          workflowExecutionTimeout: '2m',
        });
      before = await firstScrape();
      summary = (await run('backfillWorkflow', {
        job: exampleJob('default'),
        from: '2024-01-01',
        to: '2024-02-29',
      })) as BackfillSummary;
      // Workflow metrics reach the exporter through a sink after the workflow task: give them a moment.
      for (let i = 0; i < 50; i++) {
        scrapeText = await scrape();
        after = parseScrape(scrapeText);
        if (total(after, 'ch_backfill_partitions_swapped_total') >= 2) break;
        await new Promise((r) => setTimeout(r, 100));
      }
    } finally {
      worker.kill('SIGTERM');
      await exited;
    }
    expect(stderr.trim()).toBe('');
  });

  afterAll(async () => {
    await env?.teardown();
  });

  it("serves the SDK's own metrics (task latencies, slots)", () => {
    expect(before.some((s) => s.name.startsWith('temporal_'))).toBe(true);
    expect(total(after, 'temporal_workflow_completed_total', { workflow_type: 'partitionWorkflow' })).toBe(2);
    expect(total(after, 'temporal_activity_execution_latency_count', { activity_type: 'buildValidatedShadow' })).toBe(
      2,
    );
    expect(after.some((s) => s.name === 'temporal_worker_task_slots_available')).toBe(true);
  });

  it('counts the rows read and written, and the partitions swapped, exactly as the summary says', () => {
    const target = { target: 'default.events_daily' };
    expect(summary.partitions.map((p) => p.partition)).toEqual(['202401', '202402']);
    expect(summary.rowsWritten).toBeGreaterThan(0);
    expect(total(before, 'ch_backfill_rows_written_total')).toBe(0);
    expect(total(after, 'ch_backfill_rows_written_total', target)).toBe(summary.rowsWritten);
    expect(total(after, 'ch_backfill_rows_read_total', target)).toBe(summary.rowsRead);
    expect(summary.rowsRead).toBe(20_000);
    expect(total(after, 'ch_backfill_partitions_swapped_total', target)).toBe(2);
    expect(total(after, 'ch_backfill_partitions_emptied_total')).toBe(0);
    expect(total(after, 'ch_backfill_partitions_failed_total')).toBe(0);
    expect(total(after, 'ch_backfill_validation_failures_total')).toBe(0);
  });

  it('puts one INSERT per partition into the step-duration histogram, with its total time', () => {
    const insert = { step: 'insert', target: 'default.events_daily' };
    expect(total(after, 'ch_backfill_step_duration_seconds_count', insert)).toBe(2);
    const insertSeconds = (summary.totals.stepMs.insert ?? 0) / 1000;
    expect(total(after, 'ch_backfill_step_duration_seconds_sum', insert)).toBeCloseTo(insertSeconds, 1);
    expect(total(after, 'ch_backfill_step_duration_seconds_bucket', { ...insert, le: '+Inf' })).toBe(2);
    expect(total(after, 'ch_backfill_step_duration_seconds_count', { step: 'swap' })).toBe(2);
  });

  it('counts each step running, back to none once the partitions are done', () => {
    const insert = { step: 'insert', target: 'default.events_daily' };
    expect(after.some((s) => s.name === 'ch_backfill_steps_running' && s.labels.step === 'insert')).toBe(true);
    expect(total(after, 'ch_backfill_steps_running', insert)).toBe(0);
    expect(total(after, 'ch_backfill_steps_running')).toBe(0);
  });

  it('exposes our metrics under exactly the names the code declares (what the dashboard queries)', () => {
    const ours = new Set(after.map((s) => s.name).filter((n) => n.startsWith('ch_backfill_')));
    expect([...ours].length).toBeGreaterThanOrEqual(6);
    expect([...ours].filter((n) => !prometheusSeriesNames().includes(n))).toEqual([]);
  });

  it('prints a scrape excerpt', () => {
    const ours = scrapeText
      .split('\n')
      .filter((l) => /^ch_backfill_(rows|partitions_swapped|step_duration_seconds_count)/.test(l));
    console.log(`scrape excerpt:\n${ours.join('\n')}`);
    expect(ours.length).toBeGreaterThan(3);
  });
});
