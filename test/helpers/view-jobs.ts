import { randomUUID } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { WorkflowFailedError } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { parse } from 'yaml';
import type { ClickHouse } from '../../src/clickhouse/clickhouse';
import type { ImportJobInput, JobSpecInput, ViewJobInput } from '../../src/shared/job-spec';
import { createPypiTable, createPypiTableWithViews, insertPypiRows } from '../../examples/demo/sql/pypi-demo';
import { runCliOn } from './run-cli-captured';
import type { TableRef } from '../../src/shared/table-ref';
import { statementOf } from './statement-of';

/** An example job of examples/, pointed at tables in `db`, with a short cutoff margin. */
export function pypiViewJob(file: string, db: string, overrides: Partial<ViewJobInput> = {}): ViewJobInput {
  const job = parse(readFileSync(path.resolve(__dirname, '../../examples', file), 'utf8')) as ViewJobInput;
  return {
    ...job,
    source: { ...job.source, table: `${db}.pypi` },
    target: { ...job.target, table: `${db}.${job.target.table}` },
    cutoffMarginSeconds: 4,
    latenessSeconds: 1,
    ...overrides,
  };
}

/** examples/pypi-import.yaml pointed at `<db>.pypi` and `<db>.<history>`. */
export function pypiImportJob(db: string, overrides: Partial<ImportJobInput> = {}): ImportJobInput {
  const file = path.resolve(__dirname, '../../examples/pypi-import.yaml');
  const job = parse(readFileSync(file, 'utf8')) as ImportJobInput;
  return {
    ...job,
    target: { ...job.target, table: `${db}.pypi` },
    source: { table: `${db}.${(job.source as { table: string }).table}` },
    ...overrides,
  };
}

/** `YYYY-MM-DD hh:mm:ss` (UTC) of a moment, as insertPypiRows takes it. */
export const sqlTime = (ms: number): string => new Date(ms).toISOString().slice(0, 19).replace('T', ' ');

/**
 * Live ingestion: every 100 ms, 500 rows timestamped over the last 100 ms go into `pypi`, until stopped. Returns
 * how many rows it inserted.
 */
function startIngestion(ch: ClickHouse, pypi: TableRef): { stop: () => Promise<number> } {
  let stopped = false;
  let rows = 0;
  const loop = (async () => {
    while (!stopped) {
      const now = Date.now();
      await ch.exec(insertPypiRows(pypi, 500, sqlTime(now - 1000), sqlTime(now)));
      rows += 500;
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  return {
    stop: async () => {
      stopped = true;
      await loop;
      return rows;
    },
  };
}

/**
 * Runs `fn` while {@link startIngestion} inserts into `pypi`, and half a second more (rows arriving after a job are
 * the live views' alone); stops the ingestion either way. Returns `fn`'s result and how many rows were ingested.
 */
export async function whileIngesting<T>(
  ch: ClickHouse,
  pypi: TableRef,
  fn: () => Promise<T>,
): Promise<{ result: T; ingested: number }> {
  const ingestion = startIngestion(ch, pypi);
  try {
    const result = await fn();
    await new Promise((r) => setTimeout(r, 500));
    return { result, ingested: await ingestion.stop() };
  } catch (err) {
    await ingestion.stop();
    throw err;
  }
}

/** Creates `<db>.pypi` (as createPypiTable makes it) with `rows` generated downloads over [`start`, `end`). */
export async function seedPypi(
  ch: ClickHouse,
  db: string,
  rows: number,
  start: string,
  end: string,
): Promise<TableRef> {
  const pypi = { database: db, name: 'pypi' };
  await ch.exec(createPypiTable(pypi));
  await ch.exec(insertPypiRows(pypi, rows, start, end));
  return pypi;
}

/**
 * `table` as createPypiTable makes it, for the SIGKILL tests: 3,000,000 rows in January 2024, so that its fill
 * lasts longer than the 0.3 s before a kill during it, and 100,000 in February.
 */
export async function createCrashTestPypi(ch: ClickHouse, table: TableRef): Promise<void> {
  await ch.exec(createPypiTable(table));
  await ch.exec(insertPypiRows(table, 3_000_000, '2024-01-01 00:00:00', '2024-02-01 00:00:00'));
  await ch.exec(insertPypiRows(table, 100_000, '2024-02-01 00:00:00', '2024-03-01 00:00:00'));
}

/**
 * `<db>.pypi` with the guide's two views: `pypi_downloads_mv` into `pypi_downloads` (per project) and
 * `pypi_downloads_per_day_mv` into `pypi_downloads_per_day` (per hour and project), all empty.
 */
export async function createPypiWithViews(ch: ClickHouse, db: string): Promise<void> {
  const t = (name: string): TableRef => ({ database: db, name });
  const targets = { perProject: t('pypi_downloads'), perHour: t('pypi_downloads_per_day') };
  for (const statement of createPypiTableWithViews(t('pypi'), targets)) await ch.exec(statement);
}

/**
 * `{ groups, total, digest }` of the target read as the view's groups (`count` merges every state, e.g.
 * `sum(count)`), and the same of the view's query over the whole source: equal means each source row is counted
 * exactly once.
 */
export async function targetAndSource(
  ch: ClickHouse,
  db: string,
  target: string,
  keys: string,
  count: string,
  group: string,
) {
  const digest = async (inner: string) => {
    const [row] = await ch.rows(
      statementOf<{ groups: string; total: string; digest: string }>({
        query: `SELECT toString(count()) AS groups, toString(sum(n)) AS total,
        toString(groupBitXor(cityHash64(${keys}, n))) AS digest FROM (${inner})`,
        params: {},
      }),
    );
    return row;
  };
  return {
    target: await digest(`SELECT ${keys}, ${count} AS n FROM ${db}.${target} GROUP BY ${keys}`),
    source: await digest(`SELECT ${group}, count() AS n FROM ${db}.pypi GROUP BY ${keys}`),
  };
}

/** {@link targetAndSource} of a target per (hour, project), as the guide's hourly view writes it. */
export function hourlyTargetAndSource(ch: ClickHouse, db: string, target: string) {
  return targetAndSource(ch, db, target, 'hour, project', 'sum(count)', 'toStartOfHour(timestamp) AS hour, project');
}

/** {@link targetAndSource} of both targets {@link createPypiWithViews} makes. */
export async function pypiViewTargets(ch: ClickHouse, db: string) {
  return {
    downloads: await targetAndSource(ch, db, 'pypi_downloads', 'project', 'sum(count)', 'project'),
    perDay: await hourlyTargetAndSource(ch, db, 'pypi_downloads_per_day'),
  };
}

/** Writes a job of any kind to a temporary JSON file, for `ch-backfill start --job`. */
export function viewJobFile(job: ViewJobInput | ImportJobInput | JobSpecInput): string {
  const file = path.join(tmpdir(), `${job.kind}-job-${randomUUID()}.json`);
  writeFileSync(file, JSON.stringify(job));
  return file;
}

/** The tables of database `db`, by name. */
export async function tablesOf(ch: ClickHouse, db: string): Promise<string[]> {
  const rows = await ch.rows(
    statementOf<{ name: string }>({
      query: 'SELECT name FROM system.tables WHERE database = {db:String} ORDER BY name',
      params: { db },
    }),
  );
  return rows.map((r) => r.name);
}

/** How many months `db.pypi` holds rows in (history, and the months live ingestion wrote into). */
export async function pypiMonths(ch: ClickHouse, db: string): Promise<number> {
  const [row] = await ch.rows(
    statementOf<{ n: string }>({
      query: `SELECT toString(uniqExact(toYYYYMM(timestamp))) AS n FROM ${db}.pypi`,
      params: {},
    }),
  );
  return Number(row.n);
}

/** Rows of `<db>.<table>`. */
export async function rowsOf(ch: ClickHouse, db: string, table: string): Promise<number> {
  const [row] = await ch.rows(
    statementOf<{ n: string }>({
      query: `SELECT toString(count()) AS n FROM ${db}.${table}`,
      params: {},
    }),
  );
  return Number(row.n);
}

/**
 * Runs a job that must be refused (`run`: its workflow to its end) and returns the message of the failure's innermost
 * cause, which names the field; checks that the workflow failed and that the tables of `db` are as before.
 */
export async function refusalOf(ch: ClickHouse, db: string, run: () => Promise<unknown>): Promise<string> {
  const before = await tablesOf(ch, db);
  const err = await run().then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(WorkflowFailedError);
  expect(await tablesOf(ch, db)).toEqual(before);
  let cause = (err as Error).cause as Error | undefined;
  while (cause?.cause) cause = cause.cause as Error;
  return cause?.message ?? '';
}

/**
 * `ch-backfill start --job <file> --dry-run` against a test server: expects it to exit 0, print no error and say it
 * created nothing, and the tables of `db` to be as before. Returns what it printed and the step of each statement it
 * listed (its `-- <step>` lines), in order.
 */
export async function dryRun(
  h: { env: TestWorkflowEnvironment; taskQueue: string; ch: ClickHouse },
  db: string,
  file: string,
): Promise<{ out: string; steps: string[] }> {
  const before = await tablesOf(h.ch, db);
  const dry = await runCliOn(h, 'start', '--job', file, '--dry-run');
  expect(dry.err).toBe('');
  expect(dry.code).toBe(0);
  expect(await tablesOf(h.ch, db)).toEqual(before);
  expect(dry.out).toContain(`dry run of ${file}: nothing was created or changed`);
  const steps = [...dry.out.matchAll(/^-- (.+)$/gm)].map((m) => m[1]).filter((l) => !/^(params|settings):/.test(l));
  return { out: dry.out, steps };
}
