import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
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

  it('--example pypi-s3: the same from 20 Parquet files in a local bucket, and its own check passes', async () => {
    const bucket = mkdtempSync(path.join(tmpdir(), 'pypi-bucket-'));
    const lines: string[] = [];
    const log = jest.spyOn(console, 'log').mockImplementation((m: string) => void lines.push(m));
    let code: number;
    try {
      code = await h.withWorker(
        () => runPypiImportExample(h.env.client, h.taskQueue, () => undefined, { clickhouse: h.ch, bucket }),
        { demo: true },
      );
    } finally {
      log.mockRestore();
      rmSync(bucket, { recursive: true, force: true });
    }
    const output = lines.join('\n');
    expect(output).toContain('OK: every row counted exactly once in every table');
    expect(code).toBe(0);
  });
});
