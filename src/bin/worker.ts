import { runWorkerFromEnv } from '../worker/run-worker-from-env';

/**
 * `npm run worker`: serves the backfill workflows and activities on `TEMPORAL_TASK_QUEUE`
 * (default `clickhouse-backfill`) against the Temporal server and ClickHouse configured in the environment.
 * Stops cleanly on SIGINT/SIGTERM.
 */
runWorkerFromEnv().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
