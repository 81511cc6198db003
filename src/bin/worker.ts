import { NativeConnection } from '@temporalio/worker';
import { connectClickHouse } from '../clickhouse/connect';
import { DEFAULT_TASK_QUEUE } from '../shared/task-queue';
import { temporalConnectionOptionsFromEnv } from '../temporal/connection';
import { createBackfillWorker } from '../worker/create-backfill-worker';

/**
 * `npm run worker`: serves the backfill workflows and activities on `TEMPORAL_TASK_QUEUE`
 * (default `clickhouse-backfill`) against the Temporal server and ClickHouse configured in the environment.
 * Stops cleanly on SIGINT/SIGTERM.
 */
async function main(): Promise<void> {
  const temporal = temporalConnectionOptionsFromEnv();
  const clickhouse = connectClickHouse();
  const connection = await NativeConnection.connect(temporal.connectionOptions);
  try {
    const worker = await createBackfillWorker({
      connection,
      namespace: temporal.namespace,
      taskQueue: process.env.TEMPORAL_TASK_QUEUE || DEFAULT_TASK_QUEUE,
      clickhouse,
    });
    await worker.run();
  } finally {
    await connection.close();
    await clickhouse.close();
  }
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
