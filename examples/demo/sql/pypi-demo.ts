import type { Statement } from '../../../src/clickhouse/statement';
import type { TableRef } from '../../../src/shared/table-ref';
import { quotedTable, tableParam } from '../../../src/sql/engine/table-param';

/**
 * The PyPI downloads tables of ClickHouse's "Backfilling data" guide, on generated rows: the raw `pypi` table,
 * its materialized-view targets `pypi_downloads` (downloads per project) and `pypi_downloads_per_day` (per
 * project and hour, named as in the guide), the views feeding them, and the Null-engine fill of the guide's
 * tuning section.
 */

/**
 * The raw downloads: one row per download, as in the guide plus `url`. Partitioned by month (the guide's table
 * is unpartitioned) so that backfills have partitions to move.
 */
export function createPypiTable(table: TableRef): Statement {
  const t = tableParam('table', table);
  return {
    query: [
      `CREATE TABLE IF NOT EXISTS ${t.sql} (`,
      '  timestamp DateTime, country_code LowCardinality(String), url String, project String,',
      '  type LowCardinality(String), installer LowCardinality(String), python_minor LowCardinality(String),',
      '  system LowCardinality(String)',
      ') ENGINE = MergeTree PARTITION BY toYYYYMM(timestamp) ORDER BY (project, timestamp)',
    ].join('\n'),
    params: t.params,
  };
}

/** How many projects the generator draws from: ranks above it fold back into the tail. */
export const PYPI_PROJECTS = 50_000;

/** The ten most downloaded projects, by rank; the others are named `project-<rank>`. */
export const PYPI_TOP_PROJECTS = [
  'boto3',
  'urllib3',
  'botocore',
  'requests',
  'setuptools',
  'certifi',
  'idna',
  'charset-normalizer',
  'typing-extensions',
  'python-dateutil',
];

/**
 * Inserts `rows` generated downloads spread evenly over [`start`, `end`) (`YYYY-MM-DD hh:mm:ss`), all inside
 * ClickHouse from `numbers()`. Each row hashes its number, so the data is the same on every run.
 *
 * Projects follow a power law like real downloads: the rank is ⌊u^-4⌋ for u uniform in (0, 1], so rank r is drawn
 * with probability r^-0.25 − (r+1)^-0.25 — about 16 % for the first project, 45 % for the first ten and 68 % for
 * the first hundred. Ranks above {@link PYPI_PROJECTS} (about 7 % of rows) spread evenly over all projects.
 */
export function insertPypiRows(table: TableRef, rows: number, start: string, end: string): Statement {
  const t = tableParam('table', table);
  return {
    query: [
      `INSERT INTO ${t.sql} (timestamp, country_code, url, project, type, installer, python_minor, system)`,
      'SELECT timestamp,',
      "  ['US', 'US', 'US', 'CN', 'DE', 'GB', 'IN', 'FR', 'JP', 'SG', 'BR', 'IE'][1 + h2 % 12] AS country_code,",
      "  concat('https://files.pythonhosted.org/packages/', lower(hex(h2 % 65536)), '/', project, '-',",
      "    toString(1 + h3 % 9), '.', toString(h3 % 30), '.0', if(type = 'sdist', '.tar.gz', '-py3-none-any.whl')) AS url,",
      '  project,',
      "  if(h3 % 10 = 0, 'sdist', 'bdist_wheel') AS type,",
      "  ['pip', 'pip', 'pip', 'pip', 'uv', 'uv', 'poetry', 'pdm', 'bandersnatch', 'requests'][1 + h3 % 10] AS installer,",
      "  ['3.8', '3.9', '3.10', '3.10', '3.11', '3.11', '3.12', '3.12', '3.13'][1 + h2 % 9] AS python_minor,",
      "  ['Linux', 'Linux', 'Linux', 'Linux', 'Windows', 'Darwin'][1 + h3 % 6] AS system",
      'FROM (',
      '  SELECT h2, h3,',
      "    addSeconds({start:DateTime}, intDiv(number * dateDiff('second', {start:DateTime}, {end:DateTime}),",
      '      {rows:UInt64})) AS timestamp,',
      '    pow((h1 % 1000000 + 1) / 1000000, -4) AS drawn,',
      `    if(drawn >= ${PYPI_PROJECTS + 1}, 1 + h2 % ${PYPI_PROJECTS}, toUInt32(drawn)) AS rank,`,
      '    if(rank <= length({top_projects:Array(String)}), {top_projects:Array(String)}[rank],',
      "      concat('project-', toString(rank))) AS project",
      '  FROM (',
      '    SELECT number, cityHash64(number) AS h1, cityHash64(number, 2) AS h2, cityHash64(number, 3) AS h3',
      '    FROM numbers({rows:UInt64})))',
    ].join('\n'),
    params: { ...t.params, rows, start, end, top_projects: PYPI_TOP_PROJECTS },
  };
}

/** Downloads per project, the guide's first view target: a SummingMergeTree adds up the counts of each project. */
export function createPypiDownloadsTable(table: TableRef): Statement {
  const t = tableParam('table', table);
  return {
    query: `CREATE TABLE IF NOT EXISTS ${t.sql} (project String, count Int64) ENGINE = SummingMergeTree ORDER BY project`,
    params: t.params,
  };
}

/** Downloads per project and hour, the guide's second view target (`pypi_downloads_per_day`). */
export function createPypiDownloadsPerDayTable(table: TableRef): Statement {
  const t = tableParam('table', table);
  return {
    query: [
      `CREATE TABLE IF NOT EXISTS ${t.sql} (hour DateTime, project String, count Int64)`,
      'ENGINE = SummingMergeTree ORDER BY (project, hour)',
    ].join('\n'),
    params: t.params,
  };
}

// A materialized view stores its SELECT as text, and servers before 25.8 take no parameter after TO, so the three
// names of a view go through the allow-list quoting helper rather than as parameters.

/**
 * `pypi_downloads_mv`: counts the downloads of each inserted block per project into `target`. `source` is `pypi`
 * or a Null table with a `project` column, which makes an INSERT into it a block-by-block fill of `target`.
 */
export function createPypiDownloadsView(view: TableRef, source: TableRef, target: TableRef): Statement {
  return {
    query: [
      `CREATE MATERIALIZED VIEW IF NOT EXISTS ${quotedTable(view)} TO ${quotedTable(target)}`,
      `AS SELECT project, count() AS count FROM ${quotedTable(source)} GROUP BY project`,
    ].join('\n'),
    params: {},
  };
}

/** `pypi_downloads_per_day_mv`: counts the downloads of each inserted block per hour and project into `target`. */
export function createPypiDownloadsPerDayView(view: TableRef, source: TableRef, target: TableRef): Statement {
  return {
    query: [
      `CREATE MATERIALIZED VIEW IF NOT EXISTS ${quotedTable(view)} TO ${quotedTable(target)}`,
      'AS SELECT toStartOfHour(timestamp) AS hour, project, count() AS count',
      `FROM ${quotedTable(source)} GROUP BY hour, project`,
    ].join('\n'),
    params: {},
  };
}

/** The guide's plain backfill of a view target: the view's query over the whole source in one INSERT … SELECT. */
export function insertPypiDownloads(source: TableRef, target: TableRef): Statement {
  const src = tableParam('source', source);
  const dst = tableParam('target', target);
  return {
    query: `INSERT INTO ${dst.sql} (project, count) SELECT project, count() AS count FROM ${src.sql} GROUP BY project`,
    params: { ...src.params, ...dst.params },
  };
}

/** The plain backfill of the per-hour target: the view's query over the whole source in one INSERT … SELECT. */
export function insertPypiDownloadsPerDay(source: TableRef, target: TableRef): Statement {
  const src = tableParam('source', source);
  const dst = tableParam('target', target);
  return {
    query: [
      `INSERT INTO ${dst.sql} (hour, project, count)`,
      `SELECT toStartOfHour(timestamp) AS hour, project, count() AS count FROM ${src.sql} GROUP BY hour, project`,
    ].join('\n'),
    params: { ...src.params, ...dst.params },
  };
}

/** A Null-engine table with only the column `pypi_downloads_mv` reads: it stores nothing and feeds its views. */
export function createPypiProjectsNullTable(table: TableRef): Statement {
  const t = tableParam('table', table);
  return { query: `CREATE TABLE IF NOT EXISTS ${t.sql} (project String) ENGINE = Null`, params: t.params };
}

/** The Null-engine fill: streams the source's `project` column into `nullTable`, whose views aggregate each block. */
export function insertPypiProjects(source: TableRef, nullTable: TableRef): Statement {
  const src = tableParam('source', source);
  const dst = tableParam('target', nullTable);
  return {
    query: `INSERT INTO ${dst.sql} (project) SELECT project FROM ${src.sql}`,
    params: { ...src.params, ...dst.params },
  };
}

/** A Null-engine table with the two columns `pypi_downloads_per_day_mv` reads, as in the guide. */
export function createPypiTimestampsNullTable(table: TableRef): Statement {
  const t = tableParam('table', table);
  return {
    query: `CREATE TABLE IF NOT EXISTS ${t.sql} (timestamp DateTime, project String) ENGINE = Null`,
    params: t.params,
  };
}

/** The guide's Null-engine fill of the per-hour view: streams `timestamp` and `project` into `nullTable`. */
export function insertPypiTimestamps(source: TableRef, nullTable: TableRef): Statement {
  const src = tableParam('source', source);
  const dst = tableParam('target', nullTable);
  return {
    query: `INSERT INTO ${dst.sql} (timestamp, project) SELECT timestamp, project FROM ${src.sql}`,
    params: { ...src.params, ...dst.params },
  };
}

/** What a downloads digest reads: `groups` (distinct keys), total downloads and the order-free digest. */
export type DownloadsDigest = { groups: string; downloads: string; digest: string };

/**
 * The one digest statement behind the four below: over the rows of `inner` (the key columns `keys` and their
 * downloads `n`), the number of groups, total downloads, and an order-independent digest of every (keys, n) row.
 * `keys` and `inner` are this file's own text; values and names reach it only as `params`.
 */
function downloadsDigest(keys: string, inner: string, params: Record<string, unknown>): Statement<DownloadsDigest> {
  return {
    query: [
      'SELECT toString(count()) AS groups, toString(sum(n)) AS downloads,',
      `  toString(groupBitXor(cityHash64(${keys}, n))) AS digest`,
      `FROM (${inner})`,
    ].join('\n'),
    params,
  };
}

/**
 * One row summing up a downloads-per-project table whatever its merge state: `groups` (projects), total downloads,
 * and an order-independent digest of every (project, downloads) pair. Two tables agree when all three are equal.
 */
export function selectPypiDownloadsDigest(table: TableRef): Statement<DownloadsDigest> {
  const t = tableParam('table', table);
  return downloadsDigest('project', `SELECT project, sum(count) AS n FROM ${t.sql} GROUP BY project`, t.params);
}

/** The same for a downloads-per-hour table, whose `groups` are (hour, project) pairs. */
export function selectPypiDownloadsPerDayDigest(table: TableRef): Statement<DownloadsDigest> {
  const t = tableParam('table', table);
  const inner = `SELECT hour, project, sum(count) AS n FROM ${t.sql} GROUP BY hour, project`;
  return downloadsDigest('hour, project', inner, t.params);
}

/** What {@link selectPypiProfile} reads. */
export interface PypiProfile {
  rows: string;
  first: string;
  last: string;
  projects: string;
  top1_share: number;
  top10_share: number;
}

/**
 * The shape of a `pypi` table: rows, first and last timestamp, distinct projects, and the share of rows held by the
 * most downloaded project and by the ten most downloaded ones.
 */
export function selectPypiProfile(table: TableRef): Statement<PypiProfile> {
  const t = tableParam('table', table);
  return {
    query: [
      'SELECT toString(sum(downloads)) AS rows, toString(min(first)) AS first, toString(max(last)) AS last,',
      '  toString(count()) AS projects, max(downloads) / sum(downloads) AS top1_share,',
      '  arraySum(arraySlice(arrayReverseSort(groupArray(downloads)), 1, 10)) / sum(downloads) AS top10_share',
      `FROM (SELECT project, count() AS downloads, min(timestamp) AS first, max(timestamp) AS last FROM ${t.sql}`,
      '  GROUP BY project)',
    ].join('\n'),
    params: t.params,
  };
}

/** Rows of the `pypi` table, and how many of them have a timestamp from `since` on (the live ingestion's). */
export function countPypiRows(table: TableRef, since: string): Statement<{ rows: string; recent: string }> {
  const t = tableParam('table', table);
  return {
    query: `SELECT toString(count()) AS rows, toString(countIf(timestamp >= {since:DateTime})) AS recent FROM ${t.sql}`,
    params: { ...t.params, since },
  };
}

/** {@link selectPypiDownloadsDigest} of the view's query over the whole source: what the view target must equal. */
export function selectPypiSourceDownloadsDigest(source: TableRef): Statement<DownloadsDigest> {
  const t = tableParam('table', source);
  return downloadsDigest('project', `SELECT project, count() AS n FROM ${t.sql} GROUP BY project`, t.params);
}

/** {@link selectPypiDownloadsPerDayDigest} of the per-hour view's query over the whole source. */
export function selectPypiSourceDownloadsPerDayDigest(source: TableRef): Statement<DownloadsDigest> {
  const t = tableParam('table', source);
  const inner = `SELECT toStartOfHour(timestamp) AS hour, project, count() AS n FROM ${t.sql} GROUP BY hour, project`;
  return downloadsDigest('hour, project', inner, t.params);
}

/** Rows of a `pypi`-shaped table before a moment (epoch seconds), and an order-free digest of them. */
export function selectPypiRowsBefore(table: TableRef, before: number): Statement<{ rows: string; digest: string }> {
  const t = tableParam('table', table);
  return {
    query: [
      'SELECT toString(count()) AS rows, toString(groupBitXor(cityHash64(*))) AS digest',
      `FROM ${t.sql} WHERE timestamp < toDateTime({before:UInt32})`,
    ].join('\n'),
    params: { ...t.params, before },
  };
}

/**
 * One of the guide's two views with the statements around it: its target, the view, the target's plain fill (the
 * view's query in one INSERT … SELECT), the Null table that feeds the view block by block and the fill through it,
 * and the target's digest.
 */
export interface PypiView {
  createTarget(table: TableRef): Statement;
  createView(view: TableRef, source: TableRef, target: TableRef): Statement;
  insertPlain(source: TableRef, target: TableRef): Statement;
  createNullTable(table: TableRef): Statement;
  insertIntoNull(source: TableRef, nullTable: TableRef): Statement;
  selectDigest(table: TableRef): Statement<DownloadsDigest>;
}

/** The guide's views: `pypi_downloads` (per project) and `pypi_downloads_per_day` (per hour and project). */
export const PYPI_VIEWS: { perProject: PypiView; perHour: PypiView } = {
  perProject: {
    createTarget: createPypiDownloadsTable,
    createView: createPypiDownloadsView,
    insertPlain: insertPypiDownloads,
    createNullTable: createPypiProjectsNullTable,
    insertIntoNull: insertPypiProjects,
    selectDigest: selectPypiDownloadsDigest,
  },
  perHour: {
    createTarget: createPypiDownloadsPerDayTable,
    createView: createPypiDownloadsPerDayView,
    insertPlain: insertPypiDownloadsPerDay,
    createNullTable: createPypiTimestampsNullTable,
    insertIntoNull: insertPypiTimestamps,
    selectDigest: selectPypiDownloadsPerDayDigest,
  },
};

/** The demo's name for the view that feeds `target`: `<target>_mv`. */
export function pypiViewOf(target: TableRef): TableRef {
  return { database: target.database, name: `${target.name}_mv` };
}

/**
 * The demo's live table `source` with both of the guide's views feeding their targets: the source, then per view its
 * target and the view ({@link pypiViewOf}), in the order they must be created.
 */
export function createPypiTableWithViews(
  source: TableRef,
  targets: Record<keyof typeof PYPI_VIEWS, TableRef>,
): Statement[] {
  return [
    createPypiTable(source),
    ...(Object.keys(PYPI_VIEWS) as (keyof typeof PYPI_VIEWS)[]).flatMap((kind) => [
      PYPI_VIEWS[kind].createTarget(targets[kind]),
      PYPI_VIEWS[kind].createView(pypiViewOf(targets[kind]), source, targets[kind]),
    ]),
  ];
}
