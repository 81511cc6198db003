import { runPypiImportExample } from '../../examples/demo/cli/pypi-import-example';
import { createHarness, type Harness } from '../helpers/backfill-harness';
import { statementOf } from '../helpers/statement-of';

/*
 * `npm start -- --example pypi-import` as a user runs it, on the test's server and engine: it must exit 0, which it
 * does only when pypi holds exactly the history before the checkpoint and both view targets equal their views
 * over every row, those ingested during the run included.
 */

describe('npm start -- --example pypi-import', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await createHarness();
  });
  afterAll(() => h?.close());

  it('loads the generated history into pypi and both view targets, and its own check passes', async () => {
    const lines: string[] = [];
    const log = jest.spyOn(console, 'log').mockImplementation((m: string) => void lines.push(m));
    let code: number;
    try {
      code = await h.withWorker(() => runPypiImportExample(h.env.client, h.taskQueue, () => undefined), {
        demo: true,
      });
    } finally {
      log.mockRestore();
    }
    const output = lines.join('\n');
    expect(output).toContain('OK: every row counted exactly once in every table');
    expect(output).toMatch(
      /pypi before the checkpoint: 2,000,000 rows, digest (\d+); pypi_history: 2,000,000 rows, digest \1/,
    );
    expect(code).toBe(0);
    const [tables] = await h.ch.rows(
      statementOf<{ n: string }>({
        query: "SELECT toString(count()) AS n FROM system.tables WHERE database = 'default' AND name LIKE '%\\_v2\\_%'",
        params: {},
      }),
    );
    expect(tables.n).toBe('0');
  });

  it('--example pypi-s3: the same from 20 Parquet files in a local S3 bucket, and stops the S3 server', async () => {
    const lines: string[] = [];
    const logged: string[] = [];
    const log = jest.spyOn(console, 'log').mockImplementation((m: string) => void lines.push(m));
    let code: number;
    try {
      code = await h.withWorker(
        () => runPypiImportExample(h.env.client, h.taskQueue, (m) => void logged.push(m), { clickhouse: h.ch }),
        { demo: true },
      );
    } finally {
      log.mockRestore();
    }
    const output = lines.join('\n');
    expect(output).toContain('OK: every row counted exactly once in every table');
    expect(output).toMatch(
      /pypi before the checkpoint: 2,000,000 rows, digest (\d+); pypi_history: 2,000,000 rows, digest \1/,
    );
    expect(code).toBe(0);
    const endpoint = /S3 server \(moto\) at (http:\/\/127\.0\.0\.1:\d+), bucket pypi/.exec(logged.join('\n'))?.[1];
    expect(logged.join('\n')).toMatch(/20 Parquet files of pypi_history written to http:\/\/127\.0\.0\.1:\d+\/pypi\//);
    expect(endpoint).toBeDefined();
    // moto is stopped: nothing answers on its port any more.
    await expect(fetch(`${endpoint}/pypi`)).rejects.toThrow();
    // The job read the bucket through an s3 glob: the ledger holds its 20 files, every history row once.
    const [ledger] = await h.ch.rows(
      statementOf<{ files: string; batches: string; rows: string; s3: string }>({
        query:
          "SELECT toString(count()) AS files, toString(uniqExact(batch)) AS batches, toString(sum(rows)) AS rows, toString(countIf(startsWith(source, 's3:'))) AS s3 FROM default._backfill_import_files",
        params: {},
      }),
    );
    expect(ledger).toEqual({ files: '20', batches: '5', rows: '2000000', s3: '20' });
  });
});
