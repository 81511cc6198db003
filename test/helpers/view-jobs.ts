import { randomUUID } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parse } from 'yaml';
import type { ClickHouse } from '../../src/clickhouse/clickhouse';
import type { TableRef } from '../../src/shared/backfill-results';
import type { ImportJobInput, ViewJobInput } from '../../src/shared/job-spec';
import { insertPypiRows } from '../../src/sql/pypi-demo';

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
    source: { table: `${db}.${job.source.table}` },
    ...overrides,
  };
}

/** `YYYY-MM-DD hh:mm:ss` (UTC) of a moment, as insertPypiRows takes it. */
const sqlTime = (ms: number): string => new Date(ms).toISOString().slice(0, 19).replace('T', ' ');

/**
 * Live ingestion: every 100 ms, 500 rows timestamped over the last 100 ms go into `pypi`, until stopped. Returns
 * how many rows it inserted.
 */
export function startIngestion(ch: ClickHouse, pypi: TableRef): { stop: () => Promise<number> } {
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
    const [row] = await ch.rows<{ groups: string; total: string; digest: string }>({
      query: `SELECT toString(count()) AS groups, toString(sum(n)) AS total,
        toString(groupBitXor(cityHash64(${keys}, n))) AS digest FROM (${inner})`,
      params: {},
    });
    return row;
  };
  return {
    target: await digest(`SELECT ${keys}, ${count} AS n FROM ${db}.${target} GROUP BY ${keys}`),
    source: await digest(`SELECT ${group}, count() AS n FROM ${db}.pypi GROUP BY ${keys}`),
  };
}

/** Writes a job to a temporary JSON file, for `ch-backfill start --job`. */
export function viewJobFile(job: ViewJobInput): string {
  const file = path.join(tmpdir(), `view-job-${randomUUID()}.json`);
  writeFileSync(file, JSON.stringify(job));
  return file;
}

/** The tables of database `db`, by name. */
export async function tablesOf(ch: ClickHouse, db: string): Promise<string[]> {
  const rows = await ch.rows<{ name: string }>({
    query: 'SELECT name FROM system.tables WHERE database = {db:String} ORDER BY name',
    params: { db },
  });
  return rows.map((r) => r.name);
}

/** How many months `db.pypi` holds rows in (history, and the months live ingestion wrote into). */
export async function pypiMonths(ch: ClickHouse, db: string): Promise<number> {
  const [row] = await ch.rows<{ n: string }>({
    query: `SELECT toString(uniqExact(toYYYYMM(timestamp))) AS n FROM ${db}.pypi`,
    params: {},
  });
  return Number(row.n);
}
