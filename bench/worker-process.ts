import { readFileSync } from 'node:fs';
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import { connectClickHouse } from '../src/clickhouse/connect';
import { temporalConnectionOptionsFromEnv } from '../src/temporal/connection';
import { createBackfillWorker } from '../src/worker/create-backfill-worker';
import type { WorkerCommand, WorkerReply } from './messages';

const reply = (message: WorkerReply): Promise<void> =>
  new Promise((resolve) => process.send?.(message, () => resolve()));

/**
 * Child entry: the backfill worker as `src/bin/worker.ts` runs it (ClickHouse and Temporal from the
 * environment), except that the workflow bundle comes pre-built from `BENCH_WORKFLOW_BUNDLE`, so bundling's
 * memory does not count toward the worker's peak RSS. Reports `ready` once serving and its peak RSS when told
 * to stop.
 */
async function main(): Promise<void> {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const temporal = temporalConnectionOptionsFromEnv();
  const clickhouse = connectClickHouse();
  const connection = await NativeConnection.connect(temporal.connectionOptions);
  try {
    const worker = await createBackfillWorker({
      connection,
      namespace: temporal.namespace,
      taskQueue: process.env.TEMPORAL_TASK_QUEUE ?? '',
      clickhouse,
      log: { info: () => undefined, warn: (message, meta) => console.warn(message, meta ?? '') },
      workflowBundle: { code: readFileSync(process.env.BENCH_WORKFLOW_BUNDLE ?? '', 'utf8') },
    });
    // A long-running worker has its engine started long before a backfill arrives.
    await clickhouse.rows({ query: 'SELECT 1', params: {} });
    process.once('message', (command: WorkerCommand) => {
      if (command.kind === 'stop') worker.shutdown();
    });
    const running = worker.run();
    await reply({ kind: 'ready', rssBytes: process.memoryUsage().rss });
    await running;
  } finally {
    await connection.close();
    await clickhouse.close();
  }
  await reply({ kind: 'stopped', peakRssBytes: process.resourceUsage().maxRSS * 1024 });
}

main().then(
  () => process.exit(0),
  async (err) => {
    await reply({ kind: 'failed', error: err instanceof Error ? err.message : String(err) });
    process.exit(1);
  },
);
