import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { createPypiTable, insertPypiRows } from '../examples/demo/sql/pypi-demo';
import type { ImportSummary } from '../src/shared/import-input';
import { createHarness } from '../test/helpers/backfill-harness';
import { createPypiWithViews, pypiImportJob } from '../test/helpers/view-jobs';
import { importFilesTarget } from './targets';

/**
 * `npm run bench:import-files` (and a child of `npm run bench`): an import from Parquet files (`source: { file,
 * format: Parquet }`, batches of files, duplicates, validation per file, moves, the ledger) against one bare
 * `INSERT … SELECT` from the same files into a copy of `pypi` with the same two views. Target: the import takes at
 * most `IMPORT_FILES_RATIO_TARGET` (bench/targets.ts) × the bare INSERT. Forked by `npm run bench`, it sends its figures to the
 * parent; run alone, it prints them.
 */
const ROWS = Number(process.env.BENCH_IMPORT_ROWS ?? 5_000_000);
const FILES = Number(process.env.BENCH_IMPORT_FILES ?? 20);
const COLUMNS = 'timestamp, country_code, url, project, type, installer, python_minor, system';

/** The import from files against the bare INSERT … SELECT from the same files. */
export interface ImportFilesBench {
  rows: number;
  files: number;
  batches: number;
  importMs: number;
  bareMs: number;
  /** The import's step times summed over its batches (where the time outside the bare INSERT goes). */
  stepMs: Record<string, number>;
}

async function measure(): Promise<ImportFilesBench> {
  const h = await createHarness();
  const dir = mkdtempSync(path.join(tmpdir(), 'bench-import-files-'));
  try {
    const exec = (query: string, params: Record<string, unknown> = {}) => h.ch.exec({ query, params });
    const db = `bench_import_${randomUUID().replace(/-/g, '').slice(0, 8)}`;
    await exec('CREATE DATABASE {db:Identifier}', { db });
    const source = { database: db, name: 'generated' };
    await h.ch.exec(createPypiTable(source));
    await h.ch.exec(insertPypiRows(source, ROWS, '2024-01-01 00:00:00', '2024-06-01 00:00:00'));
    for (let i = 0; i < FILES; i++) {
      await exec(
        `INSERT INTO FUNCTION file({p:String}, 'Parquet') SELECT ${COLUMNS} FROM ${db}.generated WHERE cityHash64(url, timestamp) % {n:UInt16} = {i:UInt16}`,
        { p: path.join(dir, `part-${i}.parquet`), n: FILES, i },
      );
    }
    const glob = path.join(dir, '*.parquet');

    // The bare INSERT … SELECT: a pypi with the same views, in a database of its own.
    const bareDb = `${db}_bare`;
    await exec('CREATE DATABASE {db:Identifier}', { db: bareDb });
    await createPypiWithViews(h.ch, bareDb);
    const bareStarted = performance.now();
    await exec(`INSERT INTO ${bareDb}.pypi (${COLUMNS}) SELECT ${COLUMNS} FROM file({g:String}, 'Parquet')`, {
      g: glob,
    });
    const bareMs = performance.now() - bareStarted;

    await createPypiWithViews(h.ch, db);
    await h.ch.exec(
      insertPypiRows({ database: db, name: 'pypi' }, 1_000, '2024-06-01 00:00:00', '2024-06-02 00:00:00'),
    );
    const job = pypiImportJob(db, { source: { file: glob, format: 'Parquet' }, fileBatches: { maxFiles: FILES } });
    // Timed from the workflow's start to its result, as a long-running worker serves it (not the worker's start).
    let importMs = 0;
    const summary = await h.withWorker(async () => {
      const importStarted = performance.now();
      const result = (await h.env.client.workflow.execute('importWorkflow', {
        taskQueue: h.taskQueue,
        workflowId: `bench-import-files-${randomUUID()}`,
        args: [{ job }],
      })) as ImportSummary;
      importMs = performance.now() - importStarted;
      return result;
    });
    const stepMs = summary.totals.stepMs as Record<string, number>;
    return { rows: ROWS, files: FILES, batches: summary.partitions.length, importMs, bareMs, stepMs };
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await h.close();
  }
}

async function main(): Promise<number> {
  const result = await measure();
  if (process.send) {
    await new Promise<void>((resolve) => process.send?.(result, () => resolve()));
  } else {
    const target = importFilesTarget(result);
    console.log(`${target.what}: ${target.value} (target ${target.limit}): ${target.pass ? 'PASS' : 'MISS'}`);
    console.log(`import steps (ms): ${JSON.stringify(result.stepMs)}`);
  }
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
