import { installJsonLogging } from '../worker/json-logger';
import { runWorkerFromEnv } from '../worker/run-worker-from-env';

/**
 * `npm run worker`: serves the backfill workflows and activities on `TEMPORAL_TASK_QUEUE`
 * (default `clickhouse-backfill`) against the Temporal server and ClickHouse configured in the environment, logging
 * JSON lines at `LOG_LEVEL` (default info) on stdout. Stops cleanly on SIGINT/SIGTERM.
 */
async function main(): Promise<void> {
  installJsonLogging();
  await runWorkerFromEnv();
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
