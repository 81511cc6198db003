import { installWorkerRuntime } from '../worker/worker-runtime';
import { runWorkerFromEnv } from '../worker/run-worker-from-env';

/**
 * `npm run worker`: serves the backfill workflows and activities on `TEMPORAL_TASK_QUEUE`
 * (default `clickhouse-backfill`) against the Temporal server and ClickHouse configured in the environment, logging
 * JSON lines at `LOG_LEVEL` (default info) on stdout, and Prometheus metrics on `METRICS_PORT` when set. Stops cleanly on SIGINT/SIGTERM.
 */
async function main(): Promise<void> {
  installWorkerRuntime();
  await runWorkerFromEnv();
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
