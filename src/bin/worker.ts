import { Runtime } from '@temporalio/worker';
import { installWorkerRuntime } from '../worker/worker-runtime';
import { prebuiltWorkflowBundle } from '../worker/prebuilt-bundle';
import { runWorkerFromEnv } from '../worker/run-worker-from-env';

/**
 * `npm run worker` (development, from the TypeScript sources) or `node dist/bin/worker.js` after `npm run build`
 * (compiled, with the prebuilt workflow bundle): serves the backfill workflows and activities on
 * `TEMPORAL_TASK_QUEUE` (default `clickhouse-backfill`) against the Temporal server and ClickHouse configured in the
 * environment, logging JSON lines at `LOG_LEVEL` (default info) on stdout, and Prometheus metrics on `METRICS_PORT`
 * when set. Logs `worker ready` with the seconds since the process started once it polls. Stops cleanly on
 * SIGINT/SIGTERM.
 */
async function main(): Promise<void> {
  installWorkerRuntime();
  const workflowBundle = prebuiltWorkflowBundle();
  await runWorkerFromEnv({
    workflowBundle,
    onReady: () =>
      Runtime.instance().logger.info('worker ready', {
        startupSeconds: Number(process.uptime().toFixed(3)),
        workflowCode: workflowBundle ? 'prebuilt bundle' : 'bundled at start',
      }),
  });
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
