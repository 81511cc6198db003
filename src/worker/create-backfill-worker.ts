import { NativeConnection, Worker } from '@temporalio/worker';
import { createActivities, type ActivityDeps } from '../activities';
import type { ClickHouse } from '../clickhouse/clickhouse';

export interface BackfillWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  clickhouse: ClickHouse;
  onStep?: ActivityDeps['onStep'];
  /** Where activities log; JSON lines on stdout/stderr unless given. */
  log?: ActivityDeps['log'];
  /** Pre-bundled workflow code (tests bundle once); otherwise the workflows are bundled at start. */
  workflowBundle?: { code: string };
}

function jsonLogger(): ActivityDeps['log'] {
  return {
    info: (message, meta) => console.log(JSON.stringify({ level: 'info', message, ...meta })),
    warn: (message, meta) => console.warn(JSON.stringify({ level: 'warn', message, ...meta })),
  };
}

/**
 * A worker serving the backfill workflows and activities on one task queue. In embedded mode it must be the
 * only process that opens the chDB data directory, so every ClickHouse access happens through it.
 */
export async function createBackfillWorker(options: BackfillWorkerOptions): Promise<Worker> {
  return Worker.create({
    connection: options.connection,
    namespace: options.namespace,
    taskQueue: options.taskQueue,
    ...(options.workflowBundle
      ? { workflowBundle: options.workflowBundle }
      : { workflowsPath: require.resolve('../workflows') }),
    activities: createActivities({
      clickhouse: options.clickhouse,
      log: options.log ?? jsonLogger(),
      onStep: options.onStep,
    }),
  });
}
