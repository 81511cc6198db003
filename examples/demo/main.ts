import { mkdirSync, appendFileSync } from 'node:fs';
import path from 'node:path';
import { Client, Connection, WorkflowExecutionAlreadyStartedError, WorkflowFailedError } from '@temporalio/client';
import { NativeConnection, Runtime } from '@temporalio/worker';
import { errorLine } from '../../src/cli/error-line';
import { loadJobFile } from '../../src/cli/job-file';
import { runPypiImportExample } from './cli/pypi-import-example';
import { runWhileIngesting } from './cli/run-while-ingesting';
import { showProgress } from '../../src/cli/progress-view';
import { nameWorkflowFailures } from '../../src/cli/temporal-client';
import { formatSummary, formatValidation } from '../../src/cli/summary-table';
import { connectClickHouse } from '../../src/clickhouse/connect';
import { backfillInputSchema } from '../../src/shared/backfill-input';
import type { BackfillSummary } from '../../src/shared/backfill-results';
import { DEFAULT_TASK_QUEUE } from '../../src/shared/task-queue';
import { withTemporal } from '../../src/temporal/connection';
import { installWorkerRuntime } from '../../src/worker/worker-runtime';
import { createDemoWorker } from './demo-worker';
import type { ViewBackfillSummary } from '../../src/shared/view-input';
import type {
  backfillWorkflow,
  checkPypiExampleWorkflow,
  preparePypiExampleWorkflow,
  seedDemoWorkflow,
  viewBackfillWorkflow,
} from './workflows';

const DATA_DIR = '.data';
const JOB_FILE = 'examples/events-daily.yaml';
const DEMO = { start: '2024-01-01', months: 6, rows: 6_000_000 };
const RANGE = { from: '2024-01-01', to: '2024-06-30' };
const PYPI_JOB_FILE = 'examples/pypi-downloads.yaml';
const PYPI = { rows: 5_000_000, days: 90, batch: 2_000, intervalMs: 200 };

/**
 * `npm start`: the whole product on the embedded default. Starts a Temporal dev server (unless the configuration
 * names a server) and a worker on the embedded engine, generates skewed demo events if the source is empty, backfills
 * six months partition by partition with a live progress bar, and prints the summary and the validation results.
 * Exits 0 only when every partition validated. Running it again while a backfill is unfinished resumes it.
 * `npm start -- --example pypi` runs the guide's view scenario instead (see {@link runPypiExample}), `--example
 * pypi-import` its scenario 1 (see examples/demo/cli/pypi-import-example.ts), `--example pypi-s3` the same from
 * Parquet files in a bucket of a local S3 server (PyPI's moto, `npm run setup:moto`).
 */
async function main(): Promise<number> {
  mkdirSync(DATA_DIR, { recursive: true });
  // Worker logs go to a file so they do not tear through the progress bar.
  const logFile = path.join(DATA_DIR, 'worker.log');
  installWorkerRuntime(process.env, (line) => appendFileSync(logFile, line));
  const job = loadJobFile(JOB_FILE);
  if (job.kind !== 'aggregate') throw new Error(`${JOB_FILE} is not an aggregate job`);
  const log = (m: string) => console.error(m);
  return withTemporal(
    async (t) => {
      const clickhouse = connectClickHouse(process.env, Runtime.instance().logger);
      const connection = await NativeConnection.connect(t.connectionOptions);
      const client = nameWorkflowFailures(
        new Client({ connection: await Connection.connect(t.connectionOptions), namespace: t.namespace }),
      );
      const taskQueue = process.env.TEMPORAL_TASK_QUEUE || DEFAULT_TASK_QUEUE;
      const worker = await createDemoWorker({
        connection,
        namespace: t.namespace,
        taskQueue,
        clickhouse,
      });
      log(`Temporal at ${t.address} (Web UI http://localhost:8233 for a local dev server); worker on ${taskQueue}`);
      try {
        if (process.argv.includes('--example')) {
          const example = process.argv[process.argv.indexOf('--example') + 1];
          if (example === 'pypi-import')
            return await worker.runUntil(() => runPypiImportExample(client, taskQueue, log));
          if (example === 'pypi-s3')
            return await worker.runUntil(() => runPypiImportExample(client, taskQueue, log, { clickhouse }));
          if (example !== 'pypi') {
            throw new Error(`unknown example ${JSON.stringify(example)}; there are: pypi, pypi-import, pypi-s3`);
          }
          return await worker.runUntil(() => runPypiExample(client, taskQueue, log));
        }
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

/**
 * `npm start -- --example pypi`: the ClickHouse guide's scenario 2 on generated PyPI downloads. Fills `pypi` with
 * history, starts a live ingestion into it, adds the view `pypi_downloads_mv` (examples/pypi-downloads.yaml) with
 * the view backfill, stops the ingestion, and checks that `pypi_downloads` equals the view's query over every row,
 * those ingested during the backfill included. Returns 0 only then.
 */
async function runPypiExample(client: Client, taskQueue: string, log: (m: string) => void): Promise<number> {
  const job = loadJobFile(PYPI_JOB_FILE);
  if (job.kind !== 'view') throw new Error(`${PYPI_JOB_FILE} is not a view job`);
  const tables = { source: job.source.table, target: job.target.table, view: job.view.name };
  const started = Date.now();
  const id = (what: string) => `pypi-example-${what}-${started}`;
  const prepared = await client.workflow.execute<typeof preparePypiExampleWorkflow>('preparePypiExampleWorkflow', {
    taskQueue,
    workflowId: id('prepare'),
    args: [{ ...tables, rows: PYPI.rows, days: PYPI.days }],
  });
  log(`${prepared.rows.toLocaleString('en-US')} PyPI downloads of the last ${PYPI.days} days in ${tables.source}`);
  const ingestion = {
    workflowId: id('ingestion'),
    source: tables.source,
    batch: PYPI.batch,
    intervalMs: PYPI.intervalMs,
  };
  const summary = await runWhileIngesting<ViewBackfillSummary>(client, taskQueue, log, ingestion, async () => {
    const handle = await client.workflow.start<typeof viewBackfillWorkflow>('viewBackfillWorkflow', {
      taskQueue,
      workflowId: id('view'),
      args: [{ job }],
    });
    log(`Adding ${tables.view} → ${tables.target} with its backfill (${handle.workflowId})`);
    return handle;
  });
  if (!summary) return 1;
  const check = await client.workflow.execute<typeof checkPypiExampleWorkflow>('checkPypiExampleWorkflow', {
    taskQueue,
    workflowId: id('check'),
    args: [{ ...tables, since: started }],
  });
  const same = JSON.stringify(check.target) === JSON.stringify(check.source);
  console.log(
    `\ncutoff ${summary.cutoff}; ${check.rows.toLocaleString('en-US')} rows in ${tables.source}, ` +
      `${check.ingested.toLocaleString('en-US')} of them ingested during the run\n` +
      `${tables.target}: ${check.target.groups} projects, ${check.target.downloads} downloads, digest ${check.target.digest}\n` +
      `view query over ${tables.source}: ${check.source.groups} projects, ${check.source.downloads} downloads, ` +
      `digest ${check.source.digest}\n${same ? 'OK: every row counted exactly once' : 'MISMATCH'}`,
  );
  return same ? 0 : 1;
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
