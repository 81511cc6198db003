import type { ClickHouse } from '../../clickhouse/clickhouse';
import { isClickHouseError } from '../../clickhouse/clickhouse-error';
import {
  fileReaderOf,
  IMPORT_FILES_LEDGER_TABLE,
  type FileReader,
  type FileSourceSpec,
  type ImportFile,
} from '../../shared/import-file-source';
import type { ChangedFile, ImportBatch, ImportOnly, ImportPlan } from '../../shared/import-input';
import { formatCheckpoint } from '../../shared/import-batch-task';
import type { ImportJob } from '../../shared/job-spec';
import { qualifiedName, type TableRef } from '../../shared/table-ref';
import { describeSourceFiles, selectLoadedFiles, selectSourceFiles } from '../../sql/import/import-files';
import { JobSpecError } from '../engine/errors';
import { tableResolver } from '../engine/table-resolver';
import { tableExists } from '../engine/step-runner';
import type { ServerProfile } from '../../shared/server-profile';
import { dialectOf } from '../../sql/engine/server-dialect';
import { runStatement } from '../engine/cluster-ddl';

/** The checks of the table source's planning that a file source shares (src/activities/import/plan-import.ts). */
export interface SharedImportChecks {
  checkPlain(what: string, t: TableRef): void;
  checkMain(
    ch: ClickHouse,
    job: ImportJob,
    main: TableRef,
  ): Promise<{
    info: { partition_key: string };
    columns: { name: string; type: string; default_kind: string }[];
    local?: TableRef;
  }>;
  checkpointOf(ch: ClickHouse, job: ImportJob, main: TableRef): Promise<number>;
  viewsOf(ch: ClickHouse, main: TableRef): Promise<Pick<ImportPlan, 'views' | 'targets'>>;
  /**
   * The server the job writes, its profile read once its tables are known; refused if it cannot be written
   * (`perShard`: a sharded cluster is checked for a run per (batch, shard) instead).
   */
  serverOf(
    ch: ClickHouse,
    job: ImportJob,
    written: TableRef[],
    read: TableRef[],
    options: { perShard?: boolean },
  ): Promise<ServerProfile>;
}

/** The ledger of loaded files of a target: beside it, in its database. */
export const filesLedgerOf = (target: TableRef): TableRef => ({
  database: target.database,
  name: IMPORT_FILES_LEDGER_TABLE,
});

/** How the ledger and messages name a file source: `s3:<path>` (the same for every run of the same job). */
export const fileSourceName = (reader: FileReader): string => `${reader.fn}:${reader.path}`;

/** Files into batches, in listing order: at most `maxFiles` each, and `maxBytes` unless one file alone is larger. */
export function fileBatches(files: ImportFile[], limits: { maxFiles: number; maxBytes: number }): ImportBatch[] {
  const groups: ImportFile[][] = [];
  let bytes = 0;
  for (const f of files) {
    const current = groups.at(-1);
    if (!current || current.length >= limits.maxFiles || (current.length > 0 && bytes + f.size > limits.maxBytes)) {
      groups.push([f]);
      bytes = f.size;
    } else {
      current.push(f);
      bytes += f.size;
    }
  }
  const width = Math.max(4, String(groups.length).length);
  return groups.map((list, i) => ({
    id: `f${String(i + 1).padStart(width, '0')}`,
    // What progress shows of the batch: its first and last file.
    start: list[0].path,
    end: list[list.length - 1].path,
    sourceRows: 0,
    targetRows: 0,
    maxRowsPerKey: 0,
    salt: 1,
    fromMicros: 0,
    toMicros: 0,
    files: list,
    bytes: list.reduce((n, f) => n + f.size, 0),
  }));
}

/**
 * The planning of an import from files (`source: { s3 | url | file, format }`), beside the table source's: the
 * same checks of the main table, the checkpoint and the views, then the files the glob matches listed without
 * reading them (format `One`: path, size, ETag or modification time) and grouped into batches; with `only:
 * missing`, the files the ledger already holds are left out and a changed one is reported.
 */
export function filePlanning(ch: ClickHouse, checks: SharedImportChecks) {
  /** Every column the main table takes from an INSERT must be in the files (by name; the INSERT converts types). */
  async function insertedColumns(
    reader: FileReader,
    main: TableRef,
    columns: { name: string; type: string; default_kind: string }[],
  ) {
    let described: { name: string }[];
    try {
      described = await ch.rows(describeSourceFiles(reader));
    } catch (err) {
      if (!isClickHouseError(err)) throw err;
      throw new JobSpecError(
        'source',
        `ClickHouse cannot read ${reader.fn} ${reader.path} as ${reader.format}: ${err.message}`,
        {
          cause: err,
        },
      );
    }
    const names = new Set(described.map((d) => d.name));
    const inserted: string[] = [];
    for (const c of columns) {
      if (c.default_kind !== '' && c.default_kind !== 'DEFAULT') continue;
      if (!names.has(c.name)) {
        if (c.default_kind === 'DEFAULT') continue;
        throw new JobSpecError(
          'source',
          `the files have no column "${c.name}" (${c.type}) of ${qualifiedName(main)} (they have: ${[...names].join(', ')})`,
        );
      }
      inserted.push(c.name);
    }
    return inserted;
  }

  async function listFiles(reader: FileReader): Promise<ImportFile[]> {
    const rows = await ch.rows(selectSourceFiles(reader));
    if (rows.length === 0) throw new JobSpecError('source', `no file matches ${reader.fn} ${reader.path}`);
    return rows.map((r) => ({ path: r.path, size: Number(r.size), etag: r.etag, mtime: Number(r.mtime) }));
  }

  async function loadedFiles(target: TableRef, reader: FileReader, server: ServerProfile) {
    const ledger = filesLedgerOf(target);
    if (!(await tableExists(ch, ledger))) return [];
    // Earlier runs recorded their files through any node: on a cluster every replica is synced first.
    const dialect = dialectOf(server);
    for (const statement of dialect.syncBeforeRead(ledger)) await runStatement(ch, statement, dialect);
    return (await ch.rows(selectLoadedFiles(ledger, qualifiedName(target), fileSourceName(reader)))).map((r) => ({
      path: r.path,
      size: Number(r.size),
      etag: r.etag,
      checkpoint: Number(r.checkpoint),
    }));
  }

  return async (job: ImportJob, spec: FileSourceSpec, only: ImportOnly): Promise<ImportPlan> => {
    const reader = fileReaderOf(spec);
    const target = (await tableResolver(ch))(job.target.table);
    checks.checkPlain('table', target);
    const main = await checks.checkMain(ch, job, target);
    // On a sharded cluster the target is Distributed: its local table has the columns and the views.
    const local = main.local ?? target;
    const columns = await insertedColumns(reader, local, main.columns);
    const { views, targets } = await checks.viewsOf(ch, local);
    const server = await checks.serverOf(ch, job, [target, ...targets.map((t) => t.table)], [], { perShard: true });
    if (server.topology === 'sharded-cluster' && only !== 'all') {
      // The ledger records a file once any shard's batch moved it: it cannot tell which shards still lack its rows.
      throw new JobSpecError(
        'source',
        `--only ${only} on a sharded cluster: the ledger of loaded files does not record which shards loaded a ` +
          'file, so it cannot say what is missing there (see docs/clusters.md, "Sharded imports")',
      );
    }
    const listed = await listFiles(reader);

    let files = listed;
    let checkpoint: number;
    let alreadyLoaded = 0;
    const changed: ChangedFile[] = [];
    const loaded = only === 'all' ? [] : await loadedFiles(target, reader, server);
    if (loaded.length === 0) {
      checkpoint = await checks.checkpointOf(ch, job, target);
    } else {
      // The earlier runs fixed the checkpoint: the live rows before it are theirs, so it is kept, not found again.
      checkpoint = Math.max(...loaded.map((l) => l.checkpoint));
      if (job.checkpoint !== 'auto' && job.checkpoint !== formatCheckpoint(checkpoint)) {
        throw new JobSpecError(
          'checkpoint',
          `the files already loaded were loaded before ${formatCheckpoint(checkpoint)}: give that checkpoint or auto`,
        );
      }
      const byPath = new Map(loaded.map((l) => [l.path, l]));
      files = listed.filter((f) => {
        const was = byPath.get(f.path);
        if (!was) return true;
        if (was.size !== f.size || (was.etag !== '' && was.etag !== f.etag)) {
          changed.push({
            path: f.path,
            loaded: { size: was.size, etag: was.etag },
            now: { size: f.size, etag: f.etag },
          });
        } else {
          alreadyLoaded++;
        }
        return false;
      });
    }
    return {
      source: { database: reader.fn, name: reader.path },
      target,
      checkpoint,
      partitionKey: main.info.partition_key,
      columns,
      views,
      targets,
      batches: fileBatches(files, job.fileBatches),
      files: {
        reader,
        files: files.length,
        bytes: files.reduce((n, f) => n + f.size, 0),
        alreadyLoaded,
        changed,
      },
      server,
    };
  };
}
