import { z } from 'zod';
import { isPlainIdentifier } from './plain-identifier';
import { credentialsInPath } from './path-credentials';
import { forbiddenReferenceHost } from './reference-host';

/**
 * The table functions an import reads files through: `s3` (S3 and S3-compatible stores, GCS through its S3 API),
 * `url` (HTTP(S)), `file` (paths the engine's process can read: the embedded engine's machine).
 */
export const FILE_FUNCTIONS = ['s3', 'url', 'file'] as const;
export type FileFunction = (typeof FILE_FUNCTIONS)[number];

/** A format name as ClickHouse spells it (`Parquet`, `CSVWithNames`, `JSONEachRow`, …): letters and digits only. */
const formatName = z
  .string()
  .regex(/^[A-Za-z][A-Za-z0-9]*$/, { message: 'must be a ClickHouse format name such as Parquet or CSVWithNames' });

/** A path or URL with globs (`*`, `?`, `{a,b}`, `{1..9}`); never with credentials in it (user:password@, signed). */
const globPath = z
  .string()
  .min(1)
  .max(4096)
  .superRefine((p, ctx) => {
    const refusal = credentialsInPath(p);
    if (refusal) ctx.addIssue({ code: 'custom', message: refusal });
  })
  .refine((p) => !/[\0\n\r]/.test(p), { message: 'must not hold control characters' });

/**
 * A path the server fetches from a host (`s3`, `url`): never a link-local or cloud metadata address, where the
 * server would send its own credentials (as `validate --reference` refuses).
 */
const remotePath = globPath.superRefine((p, ctx) => {
  const refusal = forbiddenReferenceHost(p);
  if (refusal) ctx.addIssue({ code: 'custom', message: refusal });
});

/**
 * A URL: `{a,b}` and `{1..9}` name its files, but `*` cannot be expanded (an HTTP server lists no directory;
 * ClickHouse reads index pages only as an experiment), and `?` starts the query string.
 */
const urlPath = remotePath.refine((p) => !p.includes('*'), {
  message: 'url cannot expand * (an HTTP server lists no directory): name the files with {a,b} or {1..20}',
});

const common = {
  format: formatName.default('Parquet'),
  /**
   * s3 only: a ClickHouse named collection holding the credentials (and any other s3 setting) on the server;
   * the path still comes from the job. Without it the server's own credential chain applies (on the embedded
   * engine: the worker's `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY`).
   */
  namedCollection: z
    .string()
    .refine(isPlainIdentifier, { message: 'must be a plain name (letters, digits, underscores)' })
    .optional(),
};

/** History in files: exactly one of `s3`, `url` or `file`, the path with globs, and the format. */
export const fileSourceSchema = z.union([
  z.object({ s3: remotePath, ...common }).strict(),
  z.object({ url: urlPath, ...common }).strict(),
  z.object({ file: globPath, ...common }).strict(),
]);

export type FileSourceSpec = z.infer<typeof fileSourceSchema>;

/** How one run reads the history's files: the table function, the path with globs, the format. No credential. */
export interface FileReader {
  fn: FileFunction;
  path: string;
  format: string;
  namedCollection?: string;
}

/** The reader of a file source as the job gives it. */
export function fileReaderOf(spec: FileSourceSpec): FileReader {
  const fn: FileFunction = 's3' in spec ? 's3' : 'url' in spec ? 'url' : 'file';
  const path = 's3' in spec ? spec.s3 : 'url' in spec ? spec.url : spec.file;
  return {
    fn,
    path,
    format: spec.format,
    ...(spec.namedCollection !== undefined ? { namedCollection: spec.namedCollection } : {}),
  };
}

/** How files are grouped into batches: at most `maxFiles` files and (unless one file is larger) `maxBytes` bytes. */
export const fileBatchesSchema = z
  .object({
    maxFiles: z.number().int().positive().max(1000).default(100),
    maxBytes: z
      .number()
      .int()
      .positive()
      .default(1024 ** 3),
  })
  .strict();

/** One file of a batch as the plan listed it: what the batch reads, and what tells a changed file. */
export interface ImportFile {
  /** `_path` as the table function gives it (for s3 `bucket/key`, for file the absolute path). */
  path: string;
  size: number;
  /** s3's ETag, or '' where the function gives none. */
  etag: string;
  /** Modification time, epoch seconds; 0 where the function gives none. */
  mtime: number;
}

/** The ledger of the files an import loaded, in the target's database (src/sql/import/import-files.ts). */
export const IMPORT_FILES_LEDGER_TABLE = '_backfill_import_files';

/** The per-file counts of batches validated but not yet recorded, beside the ledger (src/sql/import/import-files.ts). */
export const IMPORT_FILE_COUNTS_TABLE = '_backfill_import_file_counts';

/** The file lists of planned batches, staged out of the workflow's payloads (src/sql/import/import-files.ts). */
export const IMPORT_BATCHES_TABLE = '_backfill_import_batches';
