import type { Client } from '@temporalio/client';
import type { ImportSummary } from '../../../src/shared/import-input';
import type { checkPypiImportExampleWorkflow, importWorkflow, preparePypiImportExampleWorkflow } from '../workflows';
import { loadJobFile } from '../../../src/cli/job-file';
import { runWhileIngesting } from './run-while-ingesting';
import { createMotoCollection, MOTO_COLLECTION, withMotoServer, type MotoServer } from '../moto-server';
import type { ClickHouse } from '../../../src/clickhouse/clickhouse';
import type { ImportJob, ImportJobInput } from '../../../src/shared/job-spec';

const JOB_FILE = 'examples/pypi-import.yaml';
const EXAMPLE = { rows: 2_000_000, days: 90 };
const INGESTION = { batch: 2_000, intervalMs: 200 };
const VIEW_TARGETS = { downloads: 'pypi_downloads', perDay: 'pypi_downloads_per_day' };

const FILES = 20;
const BUCKET = 'pypi';
const PREFIX = '2024-12-17';

/**
 * `--example pypi-s3`: the history as the guide has it, Parquet files in a bucket matched by a glob. The engine
 * itself writes `history` into FILES Parquet files in `s3`'s bucket with `INSERT INTO FUNCTION s3(…)`, and the job
 * reads them with `source: { s3: <glob>, namedCollection }` in batches of four; the credentials stay in the
 * engine's named collection.
 */
async function writeHistoryFiles(
  ch: ClickHouse,
  history: string,
  s3: MotoServer,
  job: ImportJob,
): Promise<ImportJobInput> {
  await ch.exec({ query: createMotoCollection, params: {} });
  for (let i = 0; i < FILES; i++) {
    await ch.exec({
      query: `INSERT INTO FUNCTION s3(${MOTO_COLLECTION}, url = {u:String}, format = 'Parquet') SELECT * FROM {t:Identifier} WHERE cityHash64(url, timestamp) % {n:UInt8} = {i:UInt8}`,
      params: { u: s3.url(`${PREFIX}/part-${String(i).padStart(3, '0')}.parquet`), t: history, n: FILES, i },
    });
  }
  return {
    ...job,
    source: { s3: s3.url(`${PREFIX}/*.parquet`), format: 'Parquet', namedCollection: MOTO_COLLECTION },
    fileBatches: { maxFiles: 4, maxBytes: 1024 ** 3 },
  };
}

/**
 * `npm start -- --example pypi-import`: the ClickHouse guide's scenario 1 on generated PyPI downloads. Recreates
 * `pypi` with the guide's two views (`pypi_downloads_mv`, `pypi_downloads_per_day_mv`), generates `pypi_history`,
 * starts a live ingestion into `pypi`, runs examples/pypi-import.yaml, stops the ingestion, and checks that `pypi`
 * holds exactly the history before the checkpoint and that both view targets equal their views' queries over every
 * row of `pypi`, those ingested during the run included. Returns 0 only then.
 *
 * With `fromS3` (`--example pypi-s3`), it first starts moto's S3 server (examples/demo/moto-server.ts) on a
 * loopback port with the bucket `pypi`, imports from Parquet files there instead (see {@link writeHistoryFiles}),
 * and stops the server when the example ends, fails or is interrupted. Without moto installed it fails naming
 * `npm run setup:moto`.
 */
export async function runPypiImportExample(
  client: Client,
  taskQueue: string,
  log: (m: string) => void,
  fromS3?: { clickhouse: ClickHouse },
): Promise<number> {
  if (!fromS3) return runExample(client, taskQueue, log);
  return withMotoServer(BUCKET, (s3) => {
    log(`S3 server (moto) at ${s3.endpoint}, bucket ${s3.bucket}`);
    return runExample(client, taskQueue, log, { clickhouse: fromS3.clickhouse, s3 });
  });
}

async function runExample(
  client: Client,
  taskQueue: string,
  log: (m: string) => void,
  fromS3?: { clickhouse: ClickHouse; s3: MotoServer },
): Promise<number> {
  const tableJob = loadJobFile(JOB_FILE);
  if (tableJob.kind !== 'import' || !('table' in tableJob.source))
    throw new Error(`${JOB_FILE} is not an import job from a table`);
  let job: ImportJobInput = tableJob;
  const tables = { source: tableJob.target.table, history: tableJob.source.table, ...VIEW_TARGETS };
  const started = Date.now();
  const id = (what: string) => `pypi-import-example-${what}-${started}`;
  const { historyRows } = await client.workflow.execute<typeof preparePypiImportExampleWorkflow>(
    'preparePypiImportExampleWorkflow',
    {
      taskQueue,
      workflowId: id('prepare'),
      args: [{ ...tables, rows: EXAMPLE.rows, days: EXAMPLE.days, batch: INGESTION.batch }],
    },
  );
  log(`${historyRows.toLocaleString('en-US')} PyPI downloads of ${EXAMPLE.days} days in ${tables.history}`);
  if (fromS3) {
    job = await writeHistoryFiles(fromS3.clickhouse, tables.history, fromS3.s3, tableJob);
    log(`${FILES} Parquet files of ${tables.history} written to ${fromS3.s3.url(`${PREFIX}/`)} (the guide's s3 glob)`);
  }
  const ingestion = { workflowId: id('ingestion'), source: tables.source, ...INGESTION };
  const summary = await runWhileIngesting<ImportSummary>(client, taskQueue, log, ingestion, async () => {
    const handle = await client.workflow.start<typeof importWorkflow>('importWorkflow', {
      taskQueue,
      workflowId: id('import'),
      args: [{ job }],
    });
    log(`Importing ${tables.history} into ${tables.source} and its views (${handle.workflowId})`);
    return handle;
  });
  if (!summary) return 1;
  const check = await client.workflow.execute<typeof checkPypiImportExampleWorkflow>('checkPypiImportExampleWorkflow', {
    taskQueue,
    workflowId: id('check'),
    args: [{ ...tables, checkpoint: Date.parse(summary.checkpoint) / 1000, since: started }],
  });
  const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
  const ok =
    same(check.loaded, check.history) &&
    same(check.downloads.target, check.downloads.source) &&
    same(check.perDay.target, check.perDay.source);
  const n = (x: string | number) => Number(x).toLocaleString('en-US');
  console.log(
    `\ncheckpoint ${summary.checkpoint}; ${n(check.rows)} rows in ${tables.source}\n` +
      `${tables.source} before the checkpoint: ${n(check.loaded.rows)} rows, digest ${check.loaded.digest}; ` +
      `${tables.history}: ${n(check.history.rows)} rows, digest ${check.history.digest}\n` +
      `${tables.downloads}: ${check.downloads.target.downloads} downloads, digest ${check.downloads.target.digest}; ` +
      `its view over ${tables.source}: ${check.downloads.source.downloads}, digest ${check.downloads.source.digest}\n` +
      `${tables.perDay}: ${check.perDay.target.downloads} downloads, digest ${check.perDay.target.digest}; ` +
      `its view over ${tables.source}: ${check.perDay.source.downloads}, digest ${check.perDay.source.digest}\n` +
      `${ok ? 'OK: every row counted exactly once in every table' : 'MISMATCH'}`,
  );
  return ok ? 0 : 1;
}
