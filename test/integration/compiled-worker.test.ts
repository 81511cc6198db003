import { once } from 'node:events';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { BackfillSummary } from '../../src/shared/backfill-results';
import { createDemoEventsTable, insertDemoEvents } from '../../examples/demo/sql/demo-events';
import { exampleJob } from '../helpers/backfill-harness';
import { buildDist, startCompiledWorker } from '../helpers/compiled-worker';
import { crashRunDirs, withClickHouse } from '../helpers/crash-workers';
import { targetAndSingleLevel } from '../helpers/target-digest';
import { createTestTemporal } from '../helpers/temporal-env';

/*
 * The deployment path: `npm run build` compiles the sources to dist/ and bundles the workflow code once; the
 * compiled worker (`node dist/bin/worker.js`) loads that bundle instead of bundling at start.
 */

const root = path.resolve(__dirname, '..', '..');
const { runDir, dataDir } = crashRunDirs('compiled');
const db = 'compiled_worker';
const taskQueue = `compiled-${randomUUID()}`;

describe('the compiled worker', () => {
  let env: TestWorkflowEnvironment;

  beforeAll(async () => {
    buildDist();
    rmSync(runDir, { recursive: true, force: true });
    mkdirSync(runDir, { recursive: true });
    await withClickHouse(dataDir, async (ch) => {
      await ch.exec({ query: 'CREATE DATABASE {db:Identifier}', params: { db } });
      await ch.exec(createDemoEventsTable({ database: db, name: 'events' }));
      await ch.exec(insertDemoEvents({ database: db, name: 'events' }, '2024-01-01', 1, 50_000));
    });
    env = await createTestTemporal();
  }, 300_000);

  afterAll(async () => {
    await env?.teardown();
    rmSync(runDir, { recursive: true, force: true });
  });

  it('runs from dist/ with the prebuilt workflow bundle and fills the target exactly', async () => {
    expect(existsSync(path.join(root, 'dist', 'workflow-bundle.js'))).toBe(true);
    const { child, ready } = await startCompiledWorker({
      TEMPORAL_ADDRESS: env.address,
      TEMPORAL_TASK_QUEUE: taskQueue,
      CLICKHOUSE_DATA_DIR: dataDir,
    });
    let summary: BackfillSummary;
    try {
      expect(ready.workflowCode).toBe('prebuilt bundle');
      expect(ready.startupSeconds).toBeGreaterThan(0);
      summary = await env.client.workflow.execute('backfillWorkflow', {
        taskQueue,
        workflowId: `compiled-${randomUUID()}`,
        args: [{ job: exampleJob(db), from: '2024-01-01', to: '2024-01-31' }],
      });
    } finally {
      child.kill('SIGTERM');
      await once(child, 'exit');
    }
    expect(summary.partitions.map((p) => p.partition)).toEqual(['202401']);
    await withClickHouse(dataDir, async (ch) => {
      const { target, expected } = await targetAndSingleLevel(ch, db);
      expect(target).toEqual(expected);
    });
  }, 300_000);
});
