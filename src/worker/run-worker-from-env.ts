import { NativeConnection, Runtime, type WorkflowBundleOption } from '@temporalio/worker';
import type { ActivityDeps } from '../activities';
import type { ClickHouse } from '../clickhouse/clickhouse';
import { connectClickHouse } from '../clickhouse/connect';
import { DEFAULT_TASK_QUEUE } from '../shared/task-queue';
import { temporalConfigFromEnv } from '../temporal/connection';
import { createBackfillWorker } from './create-backfill-worker';
import { workerDeploymentFromEnv } from './worker-deployment';

export interface RunWorkerOptions {
  env?: NodeJS.ProcessEnv;
  onStep?: ActivityDeps['onStep'];
  log?: ActivityDeps['log'];
  workflowBundle?: WorkflowBundleOption;
  /** Called once the worker is serving, with its ClickHouse and a way to shut it down. */
  onReady?: (ready: { clickhouse: ClickHouse; stop: () => void }) => void | Promise<void>;
}

/**
 * Serves the backfill workflows and activities on `TEMPORAL_TASK_QUEUE` (default `clickhouse-backfill`) against
 * the Temporal server and ClickHouse configured in the environment, as the Worker Deployment version
 * `TEMPORAL_DEPLOYMENT_NAME` / `TEMPORAL_WORKER_BUILD_ID` when both are set, until shut down (SIGINT/SIGTERM or `stop`);
 * then closes both connections.
 */
export async function runWorkerFromEnv(options: RunWorkerOptions = {}): Promise<void> {
  const env = options.env ?? process.env;
  const temporal = temporalConfigFromEnv(env);
  const deployment = workerDeploymentFromEnv(env);
  // The client's own log lines go through the runtime's (JSON, redacting) logger, as the worker's do.
  const clickhouse = connectClickHouse(env, Runtime.instance().logger);
  const connection = await NativeConnection.connect(temporal.connectionOptions);
  try {
    const worker = await createBackfillWorker({
      connection,
      namespace: temporal.namespace,
      taskQueue: env.TEMPORAL_TASK_QUEUE || DEFAULT_TASK_QUEUE,
      clickhouse,
      onStep: options.onStep,
      log: options.log,
      workflowBundle: options.workflowBundle,
      deployment,
    });
    const running = worker.run();
    await options.onReady?.({ clickhouse, stop: () => worker.shutdown() });
    await running;
  } finally {
    await connection.close();
    await clickhouse.close();
  }
}
