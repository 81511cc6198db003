import type { Client } from '@temporalio/client';
import type { ImportSummary } from '../../../src/shared/import-input';
import type { checkPypiImportExampleWorkflow, importWorkflow, preparePypiImportExampleWorkflow } from '../workflows';
import { loadJobFile } from '../../../src/cli/job-file';
import { runWhileIngesting } from './run-while-ingesting';
import { mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import type { ClickHouse } from '../../../src/clickhouse/clickhouse';
import type { ImportJob, ImportJobInput } from '../../../src/shared/job-spec';

const JOB_FILE = 'examples/pypi-import.yaml';
const EXAMPLE = { rows: 2_000_000, days: 90 };
const INGESTION = { batch: 2_000, intervalMs: 200 };
const VIEW_TARGETS = { downloads: 'pypi_downloads', perDay: 'pypi_downloads_per_day' };

/**
 * `npm start -- --example pypi-import`: the ClickHouse guide's scenario 1 on generated PyPI downloads. Recreates
 * `pypi` with the guide's two views (`pypi_downloads_mv`, `pypi_downloads_per_day_mv`), generates `pypi_history`,
 * starts a live ingestion into `pypi`, runs examples/pypi-import.yaml, stops the ingestion, and checks that `pypi`
 * holds exactly the history before the checkpoint and that both view targets equal their views' queries over every
 * row of `pypi`, those ingested during the run included. Returns 0 only then.
 */
const FILES = 20;

/**
 * `--example pypi-s3`: the history as the guide has it, Parquet files matched by a glob. The engine itself writes
 * `history` into FILES Parquet files in `bucket` (a local directory: the embedded default has no object store; the
 * integration tests run the same job on an S3 server), and the job reads them with `source: { file, format }`.
 */
async function writeHistoryFiles(
  ch: ClickHouse,
  history: string,
  bucket: string,
  job: ImportJob,
): Promise<ImportJobInput> {
  const dir = path.resolve(bucket, '2024-12-17');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  for (let i = 0; i < FILES; i++) {
    await ch.exec({
      query: `INSERT INTO FUNCTION file({p:String}, 'Parquet') SELECT * FROM {t:Identifier} WHERE cityHash64(url, timestamp) % {n:UInt8} = {i:UInt8}`,
      params: { p: path.join(dir, `part-${String(i).padStart(3, '0')}.parquet`), t: history, n: FILES, i },
    });
  }
  return {
    ...job,
    source: { file: path.join(dir, '*.parquet'), format: 'Parquet' },
    fileBatches: { maxFiles: 4, maxBytes: 1024 ** 3 },
  };
}

export async function runPypiImportExample(
  client: Client,
  taskQueue: string,
  log: (m: string) => void,
  fromFiles?: { clickhouse: ClickHouse; bucket: string },
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
  if (fromFiles) {
    job = await writeHistoryFiles(fromFiles.clickhouse, tables.history, fromFiles.bucket, tableJob);
    log(`${FILES} Parquet files of ${tables.history} written to ${fromFiles.bucket} (the guide's s3 glob, locally)`);
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
