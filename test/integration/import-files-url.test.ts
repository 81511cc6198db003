import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createPypiTable, insertPypiRows } from '../../examples/demo/sql/pypi-demo';
import type { ClickHouse } from '../../src/clickhouse/clickhouse';
import type { ImportSummary } from '../../src/shared/import-input';
import { createHarness, type Harness } from '../helpers/backfill-harness';
import { freshDatabase } from '../helpers/chdb-env';
import { statementOf } from '../helpers/statement-of';
import { createPypiWithViews, pypiImportJob, pypiViewTargets } from '../helpers/view-jobs';

/*
 * kind: import from `url`: Parquet files the engine wrote, served by a plain HTTP server on a loopback port (node's
 * http, GET and HEAD, no directory listing), named with `{1..N}`; loaded in batches into `pypi` and its two views.
 */

async function digest(ch: ClickHouse, query: string) {
  const [row] = await ch.rows(
    statementOf<{ rows: string; digest: string }>({
      query: `SELECT toString(count()) AS rows, toString(groupBitXor(cityHash64(*))) AS digest FROM (${query})`,
      params: {},
    }),
  );
  return row;
}

describe('kind: import from url — Parquet files over HTTP', () => {
  let h: Harness;
  let dir: string;
  let server: http.Server;
  let base: string;
  const requested: string[] = [];
  const PYPI_COLUMNS = 'timestamp, country_code, url, project, type, installer, python_minor, system';

  beforeAll(async () => {
    h = await createHarness();
    dir = mkdtempSync(path.join(tmpdir(), 'import-url-'));
    server = http.createServer((req, res) => {
      const file = path.join(dir, path.basename(decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname)));
      requested.push(`${req.method} ${req.url}`);
      try {
        const body = readFileSync(file);
        res.writeHead(200, {
          'Content-Length': body.length,
          'Content-Type': 'application/octet-stream',
          'Last-Modified': statSync(file).mtime.toUTCString(),
        });
        res.end(req.method === 'HEAD' ? undefined : body);
      } catch {
        res.writeHead(404);
        res.end();
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }, 120_000);

  afterAll(async () => {
    await new Promise((resolve) => server?.close(resolve));
    if (dir) rmSync(dir, { recursive: true, force: true });
    await h?.close();
  });

  it('loads 6 files named part-{1..6}.parquet in batches of 4, exactly once, and records them in the ledger', async () => {
    const db = await freshDatabase(h.ch, 'import_url');
    await createPypiWithViews(h.ch, db);
    const history = { database: db, name: 'history' };
    await h.ch.exec(createPypiTable(history));
    await h.ch.exec(insertPypiRows(history, 30_000, '2024-01-01 00:00:00', '2024-04-01 00:00:00'));
    for (let i = 1; i <= 6; i++) {
      await h.ch.exec({
        query: `INSERT INTO FUNCTION file({p:String}, 'Parquet') SELECT ${PYPI_COLUMNS} FROM ${db}.history
          WHERE cityHash64(url, timestamp) % 6 = {i:UInt8}`,
        params: { p: path.join(dir, `part-${i}.parquet`), i: i - 1 },
      });
    }
    // A file the glob does not name is not loaded.
    await h.ch.exec({
      query: `INSERT INTO FUNCTION file({p:String}, 'Parquet') SELECT ${PYPI_COLUMNS} FROM ${db}.history LIMIT 10`,
      params: { p: path.join(dir, 'part-7.parquet') },
    });
    await h.ch.exec(insertPypiRows({ database: db, name: 'pypi' }, 500, '2024-06-01 00:00:00', '2024-06-02 00:00:00'));

    const summary = (await h.withWorker(() =>
      h.env.client.workflow.execute('importWorkflow', {
        taskQueue: h.taskQueue,
        workflowId: `import-url-${randomUUID()}`,
        args: [
          {
            job: pypiImportJob(db, {
              source: { url: `${base}/part-{1..6}.parquet`, format: 'Parquet' },
              fileBatches: { maxFiles: 4 },
            }),
          },
        ],
      }),
    )) as ImportSummary;
    expect(summary.failed).toEqual([]);
    expect(summary.partitions.map((p) => p.partition)).toEqual(['f0001', 'f0002']);
    const before = "timestamp < '2024-06-01'";
    expect(await digest(h.ch, `SELECT * FROM ${db}.pypi WHERE ${before}`)).toEqual(
      await digest(h.ch, `SELECT * FROM ${db}.history`),
    );
    const targets = await pypiViewTargets(h.ch, db);
    expect(targets.downloads.target).toEqual(targets.downloads.source);
    expect(targets.perDay.target).toEqual(targets.perDay.source);
    const ledger = await h.ch.rows(
      statementOf<{ path: string; rows: string; size: string }>({
        query: `SELECT path, toString(rows) AS rows, toString(size) AS size FROM ${db}._backfill_import_files ORDER BY path`,
        params: {},
      }),
    );
    // url's _path is the URL's path; its size comes from the server's Content-Length.
    expect(ledger.map((l) => l.path)).toEqual([1, 2, 3, 4, 5, 6].map((i) => `/part-${i}.parquet`));
    expect(ledger.reduce((n, l) => n + Number(l.rows), 0)).toBe(30_000);
    expect(ledger.every((l) => Number(l.size) === statSync(path.join(dir, path.basename(l.path))).size)).toBe(true);
    expect(requested.some((r) => r.includes('part-7'))).toBe(false);
  }, 300_000);

  it('refuses * in a url before anything runs: an HTTP server lists no directory', async () => {
    const db = await freshDatabase(h.ch, 'import_url_star');
    await createPypiWithViews(h.ch, db);
    const run = h.withWorker(() =>
      h.env.client.workflow.execute('importWorkflow', {
        taskQueue: h.taskQueue,
        workflowId: `import-url-star-${randomUUID()}`,
        args: [{ job: pypiImportJob(db, { source: { url: `${base}/*.parquet`, format: 'Parquet' } }) }],
      }),
    );
    await expect(run).rejects.toThrow();
    const error = await run.catch((e: unknown) => e as Error & { cause?: Error });
    expect(`${error.message} ${error.cause?.message ?? ''}`).toMatch(/url cannot expand \*/);
  }, 120_000);
});
