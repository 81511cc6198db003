import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { ClickHouse } from '../../src/clickhouse/clickhouse';
import type { ViewRestateInputRaw } from '../../src/shared/view-restate-input';
import { statementOf } from './statement-of';

/*
 * The view the restate tests fix and restate: `daily_mv` into `daily`, each day's downloads per project of
 * `<db>.pypi`. As first written it counted wheels only; as fixed, every download. In a chain, `monthly_mv` reads
 * `daily` into `monthly`.
 */

/** The view's query as first written: wheels only. */
export const wheelsOnlyDaily = (db: string): string =>
  `SELECT toDate(timestamp) AS day, project, count() AS downloads FROM ${db}.pypi WHERE type = 'bdist_wheel' GROUP BY day, project`;

/** The view's query as fixed: every download. */
export const everyDownloadDaily = (db: string): string =>
  `SELECT toDate(timestamp) AS day, project, count() AS downloads FROM ${db}.pypi GROUP BY day, project`;

/** The chain's next level: the month's downloads per project, from `from` (a table, or a query's rows). */
export const monthlyFrom = (from: string): string =>
  `SELECT toStartOfMonth(day) AS month, project, sum(downloads) AS downloads FROM ${from} GROUP BY month, project`;

/** `daily`, by month. */
export const createDaily = (db: string): string =>
  `CREATE TABLE ${db}.daily (day Date, project String, downloads UInt64) ENGINE = MergeTree PARTITION BY toYYYYMM(day) ORDER BY (day, project)`;

/** `monthly`, by month. */
export const createMonthly = (db: string): string =>
  `CREATE TABLE ${db}.monthly (month Date, project String, downloads UInt64) ENGINE = SummingMergeTree PARTITION BY toYYYYMM(month) ORDER BY (month, project)`;

/** One month's grouped totals: how many `(key, project)` groups, their downloads and a digest of them. */
export interface MonthTotals {
  groups: string;
  total: string;
  digest: string;
}

/** Per month, the totals of the `(key, project, n)` rows grouped from `inner`: a target's rows or a query's. */
export async function monthTotals(
  ch: ClickHouse,
  inner: string,
  key: 'day' | 'month' = 'day',
): Promise<Record<string, MonthTotals>> {
  const rows = await ch.rows(
    statementOf<{ month: string } & MonthTotals>({
      query: [
        `SELECT toString(toYYYYMM(${key})) AS month, toString(count()) AS groups, toString(sum(n)) AS total,`,
        `  toString(groupBitXor(cityHash64(${key}, project, n))) AS digest`,
        `FROM (SELECT ${key}, project, sum(downloads) AS n FROM (${inner}) GROUP BY ${key}, project)`,
        'GROUP BY month ORDER BY month',
      ].join('\n'),
      params: {},
    }),
  );
  return Object.fromEntries(rows.map((r) => [r.month, { groups: r.groups, total: r.total, digest: r.digest }]));
}

/** A restate job written to a file of its own, for `ch-backfill … --job`; its path. */
export function restateJobFile(job: ViewRestateInputRaw['job']): string {
  const file = path.join(tmpdir(), `view-restate-job-${randomUUID()}.json`);
  writeFileSync(file, JSON.stringify(job));
  return file;
}
