import type { Statement } from '../../src/clickhouse/statement';
import { fileReaderOf, fileSourceSchema, type FileReader } from '../../src/shared/import-file-source';
import {
  describeSourceFiles,
  insertFileBatch,
  insertFileCounts,
  insertLoadedFiles,
  selectFileBatchRows,
  selectFileCounts,
  selectOneFileRows,
  selectSourceFiles,
} from '../../src/sql/import/import-files';
import { hostileStrings, notRefused } from '../helpers/hostile-strings';

const dup = { database: 'web', name: 'pypi_v2_f0001_0badcafe' };
const ledger = { database: 'web', name: '_backfill_import_files' };
const counts = { database: 'web', name: '_backfill_import_file_counts' };

/** Paths as globs and odd names write them: quotes, backslashes, braces, ranges, newlines, NUL, `{param:Type}`. */
const hostilePaths = [
  ...hostileStrings(),
  "Zq9bucket/it's/*.parquet",
  'Zq9bucket\\dir\\*.parquet',
  'Zq9bucket/{a,b}/part-{1..20}.parquet',
  'Zq9bucket/{import_path:String}/x',
  'Zq9bucket/x}.parquet',
  "Zq9bucket/x'), file('/etc/passwd', 'CSV') --",
  'Zq9bucket/a\nb.parquet',
];

/** Every statement of an import from files that reads `reader`, with `paths` as a batch's files. */
function statementsOf(reader: FileReader, paths: string[]): Statement<unknown>[] {
  const file = { size: 1, etag: '"e"', mtime: 0, rows: 2 };
  const loaded = paths.map((path) => ({ path, ...file }));
  const run = { target: 'web.pypi', run: 'web.pypi_v2_f0001_0badcafe', batch: 'f0001' };
  return [
    selectSourceFiles(reader),
    describeSourceFiles(reader),
    insertFileBatch(reader, dup, ['timestamp', 'project'], 'timestamp', 1, paths),
    selectFileBatchRows(reader, 'timestamp', 1, paths),
    selectOneFileRows(reader, paths[0]),
    insertLoadedFiles(ledger, { ...run, source: `${reader.fn}:${reader.path}`, checkpoint: 1 }, loaded),
    insertFileCounts(counts, run, loaded),
    selectFileCounts(counts, { ...run, target: paths[0] }),
  ];
}

describe('the statements of an import from files, with hostile paths and formats', () => {
  it('never put a path, a batch file or a format into the text: each travels as a query parameter, unchanged', () => {
    const leaked = hostilePaths.flatMap((h) =>
      (['s3', 'url', 'file'] as const).flatMap((fn) => {
        const reader: FileReader = { fn, path: h, format: h };
        return statementsOf(reader, [h, `${h}2`]).flatMap((s) => {
          const values = Object.values(s.params ?? {}).flat();
          const wrong = [
            s.query.includes('Zq9') ? 'in the text' : '',
            values.includes(h) ? '' : 'not a parameter',
          ].filter(Boolean);
          return wrong.length ? [`${fn} ${JSON.stringify(h)}: ${wrong.join(', ')}: ${s.query}`] : [];
        });
      }),
    );
    expect(leaked).toEqual([]);
  });

  it('read through a named collection by its name only when the name is plain', () => {
    const plain = insertFileBatch(
      { fn: 's3', path: 'b/*.parquet', format: 'Parquet', namedCollection: 'moto_s3' },
      dup,
      ['timestamp'],
      'timestamp',
      1,
      ['b/1.parquet'],
    );
    expect(plain.query).toContain('s3(`moto_s3`, url = {import_path:String}, format = {import_format:String})');
    const accepted = hostileStrings().flatMap((h) => {
      const reader: FileReader = { fn: 's3', path: 'b/*.parquet', format: 'Parquet', namedCollection: h };
      const reads = [
        () => selectSourceFiles(reader),
        () => describeSourceFiles(reader),
        () => insertFileBatch(reader, dup, ['timestamp'], 'timestamp', 1, ['b/1.parquet']),
        () => selectFileBatchRows(reader, 'timestamp', 1, ['b/1.parquet']),
        () => selectOneFileRows(reader, 'b/1.parquet'),
      ];
      return reads.flatMap((read) => notRefused(read, /^refusing/) ?? []);
    });
    expect(accepted).toEqual([]);
  });

  it('refuse a time column or a column that is not a plain name', () => {
    const reader: FileReader = { fn: 'file', path: '/d/*.csv', format: 'CSVWithNames' };
    const accepted = hostileStrings().flatMap((h) =>
      [
        notRefused(() => insertFileBatch(reader, dup, ['timestamp', h], 'timestamp', 1, ['/d/1.csv']), /^refusing/),
        notRefused(() => insertFileBatch(reader, dup, ['timestamp'], h, 1, ['/d/1.csv']), /^refusing/),
        notRefused(() => selectFileBatchRows(reader, h, 1, ['/d/1.csv']), /^refusing/),
      ].filter((outcome) => outcome !== undefined),
    );
    expect(accepted).toEqual([]);
  });
});

describe('a file source as the job gives it', () => {
  const parse = (source: unknown) => fileSourceSchema.safeParse(source);

  it('takes quotes, backslashes and globs in a path (they reach ClickHouse as a parameter)', () => {
    for (const path of ["bucket/it's/*.parquet", 'C:\\exports\\*.csv', 'b/{a,b}/part-{1..20}.parquet', 'b/x}']) {
      const parsed = parse({ s3: path, format: 'Parquet' });
      expect(parsed.success).toBe(true);
      if (parsed.success) expect(fileReaderOf(parsed.data).path).toBe(path);
    }
  });

  it('takes {a,b} and {1..N} in a url but refuses *, which an HTTP server cannot expand', () => {
    expect(parse({ url: 'http://127.0.0.1:8000/part-{1..20}.parquet' }).success).toBe(true);
    expect(parse({ url: 'http://h/{a,b}/x.csv', format: 'CSVWithNames' }).success).toBe(true);
    const refused = parse({ url: 'http://127.0.0.1:8000/*.parquet' });
    expect(refused.success).toBe(false);
    expect(JSON.stringify(refused.error?.issues)).toContain('url cannot expand *');
    expect(parse({ s3: 'http://127.0.0.1:9000/b/*.parquet' }).success).toBe(true);
  });

  it('refuses control characters and credentials in a path', () => {
    for (const path of ['b/a\nb', 'b/a\rb', 'b/a\0b', 'https://user:secret@host/b/*.parquet', 's3://AKIA:x@b/k']) {
      expect(parse({ url: path }).success).toBe(false);
    }
  });

  it('refuses an s3 or url path on a link-local or metadata host, naming it, but not a local file path', () => {
    for (const source of [
      { s3: 'http://169.254.169.254/latest/meta-data/*.parquet' },
      { url: 'http://[fd00:ec2::254]/x.parquet' },
      { s3: 's3://metadata.google.internal/b/*.parquet' },
    ]) {
      const refused = parse(source);
      expect(refused.success).toBe(false);
      expect(JSON.stringify(refused.error?.issues)).toContain('link-local or cloud metadata address');
    }
    expect(parse({ file: '/data/169.254.169.254/*.parquet' }).success).toBe(true);
  });

  it('refuses a format that is not a plain ClickHouse format name', () => {
    const accepted = hostileStrings().filter((h) => parse({ file: '/d/*.csv', format: h }).success);
    expect(accepted).toEqual([]);
    for (const format of ["Parquet'", 'CSV\n', 'Parquet)', '{import_format:String}', 'CSVWithNames ']) {
      expect(parse({ file: '/d/*.csv', format }).success).toBe(false);
    }
    expect(parse({ file: '/d/*.csv', format: 'CSVWithNames' }).success).toBe(true);
  });

  it('refuses a named collection that is not a plain name', () => {
    const accepted = hostileStrings().filter((h) => parse({ s3: 'b/*', namedCollection: h }).success);
    expect(accepted).toEqual([]);
  });
});
