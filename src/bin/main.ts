import { mkdirSync, appendFileSync } from 'node:fs';
import path from 'node:path';
import { Client, Connection, WorkflowExecutionAlreadyStartedError, WorkflowFailedError } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { errorLine } from '../cli/error-line';
import { loadJobFile } from '../cli/job-file';
import { showProgress } from '../cli/progress-view';
import { nameWorkflowFailures } from '../cli/temporal-client';
import { formatSummary, formatValidation } from '../cli/summary-table';
import { connectClickHouse } from '../clickhouse/connect';
import { backfillInputSchema } from '../shared/backfill-input';
import type { BackfillSummary } from '../shared/backfill-results';
import { DEFAULT_TASK_QUEUE } from '../shared/task-queue';
import { withTemporal } from '../temporal/connection';
import { createBackfillWorker } from '../worker/create-backfill-worker';
import { installJsonLogging } from '../worker/json-logger';
import type { backfillWorkflow, seedDemoWorkflow } from '../workflows';

const DATA_DIR = '.data';
const JOB_FILE = 'examples/events-daily.yaml';
const DEMO = { start: '2024-01-01', months: 6, rows: 6_000_000 };
const RANGE = { from: '2024-01-01', to: '2024-06-30' };

/**
 * `npm start`: the whole product on the embedded default. Starts a Temporal dev server (unless the configuration
 * names a server) and a worker on the embedded engine, generates skewed demo events if the source is empty, backfills
 * six months partition by partition with a live progress bar, and prints the summary and the validation results.
 * Exits 0 only when every partition validated. Running it again while a backfill is unfinished resumes it.
 */
async function main(): Promise<number> {
  mkdirSync(DATA_DIR, { recursive: true });
  // Worker logs go to a file so they do not tear through the progress bar.
  const logFile = path.join(DATA_DIR, 'worker.log');
  installJsonLogging(process.env, (line) => appendFileSync(logFile, line));
  const job = loadJobFile(JOB_FILE);
  const log = (m: string) => console.error(m);
  return withTemporal(
    async (t) => {
      const clickhouse = connectClickHouse();
      const connection = await NativeConnection.connect(t.connectionOptions);
      const client = nameWorkflowFailures(
        new Client({ connection: await Connection.connect(t.connectionOptions), namespace: t.namespace }),
      );
      const taskQueue = process.env.TEMPORAL_TASK_QUEUE || DEFAULT_TASK_QUEUE;
      const worker = await createBackfillWorker({
        connection,
        namespace: t.namespace,
        taskQueue,
        clickhouse,
      });
      log(`Temporal at ${t.address} (Web UI http://localhost:8233 for a local dev server); worker on ${taskQueue}`);
      try {
        return await worker.runUntil(async () => {
          const seeded = await client.workflow.execute<typeof seedDemoWorkflow>('seedDemoWorkflow', {
            taskQueue,
            workflowId: `seed-demo-${job.source.table}`,
            args: [{ table: job.source.table, ...DEMO }],
          });
          log(
            seeded.generated
              ? `Generated ${seeded.rows.toLocaleString('en-US')} demo events in ${job.source.table}`
              : `Using the ${seeded.rows.toLocaleString('en-US')} rows already in ${job.source.table}`,
          );
          const workflowId = `backfill-${job.target.table}-${RANGE.from}-${RANGE.to}`;
          const handle = await client.workflow
            .start<typeof backfillWorkflow>('backfillWorkflow', {
              taskQueue,
              workflowId,
              args: [backfillInputSchema.parse({ job, ...RANGE })],
            })
            .catch((err) => {
              if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
              log(`Resuming the unfinished backfill ${workflowId}`);
              return client.workflow.getHandle<typeof backfillWorkflow>(workflowId);
            });
          log(`Backfilling ${job.target.table} from ${job.source.table}, ${RANGE.from} to ${RANGE.to} (${workflowId})`);
          const result = handle.result();
          await showProgress(handle, result);
          try {
            const summary = await result;
            console.log(`\n${formatSummary(summary)}\n\nValidation:\n${formatValidation(summary)}`);
            return 0;
          } catch (err) {
            const details = err instanceof WorkflowFailedError ? failureSummary(err) : undefined;
            if (details) console.log(`\n${formatSummary(details)}`);
            console.error(`\n${errorLine(err)}`);
            return 1;
          }
        });
      } finally {
        await connection.close();
        await clickhouse.close();
      }
    },
    { dataDir: DATA_DIR, log },
  );
}

function failureSummary(err: WorkflowFailedError): BackfillSummary | undefined {
  const cause = err.cause as { details?: unknown[] } | undefined;
  return cause?.details?.[0] as BackfillSummary | undefined;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(errorLine(err));
    process.exit(1);
  },
);
