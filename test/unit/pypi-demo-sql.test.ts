import type { Statement } from '../../src/clickhouse/statement';
import {
  createPypiDownloadsPerDayTable,
  createPypiDownloadsPerDayView,
  createPypiDownloadsTable,
  createPypiDownloadsView,
  createPypiProjectsNullTable,
  createPypiTable,
  createPypiTimestampsNullTable,
  insertPypiDownloads,
  insertPypiDownloadsPerDay,
  insertPypiProjects,
  insertPypiRows,
  insertPypiTimestamps,
  PYPI_TOP_PROJECTS,
  PYPI_VIEWS,
  selectPypiDownloadsDigest,
  selectPypiDownloadsPerDayDigest,
  selectPypiProfile,
} from '../../examples/demo/sql/pypi-demo';
import type { TableRef } from '../../src/shared/table-ref';

const pypi: TableRef = { database: 'demo', name: 'pypi' };
const downloads: TableRef = { database: 'demo', name: 'pypi_downloads' };
const view: TableRef = { database: 'demo', name: 'pypi_downloads_mv' };
const nullTable: TableRef = { database: 'demo', name: 'pypi_null' };

/** Names of the `{name:Type}` placeholders of a query. */
const placeholders = (query: string): string[] => [
  ...new Set([...query.matchAll(/\{(\w+):[^}]+\}/g)].map((m) => m[1])),
];

describe('the PyPI demo statements', () => {
  const byTableParams: Record<string, Statement> = {
    createPypiTable: createPypiTable(pypi),
    insertPypiRows: insertPypiRows(pypi, 1000, '2024-10-01 00:00:00', '2024-12-17 09:00:00'),
    createPypiDownloadsTable: createPypiDownloadsTable(downloads),
    createPypiDownloadsPerDayTable: createPypiDownloadsPerDayTable(downloads),
    insertPypiDownloads: insertPypiDownloads(pypi, downloads),
    createPypiProjectsNullTable: createPypiProjectsNullTable(nullTable),
    insertPypiProjects: insertPypiProjects(pypi, nullTable),
    insertPypiDownloadsPerDay: insertPypiDownloadsPerDay(pypi, downloads),
    createPypiTimestampsNullTable: createPypiTimestampsNullTable(nullTable),
    insertPypiTimestamps: insertPypiTimestamps(pypi, nullTable),
    selectPypiDownloadsDigest: selectPypiDownloadsDigest(downloads),
    selectPypiDownloadsPerDayDigest: selectPypiDownloadsPerDayDigest(downloads),
    selectPypiProfile: selectPypiProfile(pypi),
  };

  it.each(Object.entries(byTableParams))('%s names its tables only as Identifier parameters', (_, stmt) => {
    expect(stmt.query).not.toMatch(/\bdemo\b|`/);
    expect(placeholders(stmt.query).sort()).toEqual(Object.keys(stmt.params).sort());
  });

  it('passes the row count, the time range and the top project names as parameters', () => {
    const stmt = insertPypiRows(pypi, 1000, '2024-10-01 00:00:00', '2024-12-17 09:00:00');
    expect(stmt.params).toMatchObject({
      rows: 1000,
      start: '2024-10-01 00:00:00',
      end: '2024-12-17 09:00:00',
      top_projects: PYPI_TOP_PROJECTS,
    });
    expect(stmt.query).toContain('FROM numbers({rows:UInt64})');
    expect(stmt.query).not.toContain('2024');
    expect(stmt.query).not.toContain('boto3');
  });

  it('partitions the raw table by month and orders it as the guide does', () => {
    expect(createPypiTable(pypi).query).toContain(
      'ENGINE = MergeTree PARTITION BY toYYYYMM(timestamp) ORDER BY (project, timestamp)',
    );
  });

  it('renders the view targets as the guide’s SummingMergeTree tables', () => {
    expect(createPypiDownloadsTable(downloads).query).toContain(
      '(project String, count Int64) ENGINE = SummingMergeTree ORDER BY project',
    );
    expect(createPypiDownloadsPerDayTable(downloads).query).toContain(
      '(hour DateTime, project String, count Int64)\nENGINE = SummingMergeTree ORDER BY (project, hour)',
    );
  });

  it('renders the views with allow-listed, quoted names and no parameters', () => {
    const perProject = createPypiDownloadsView(view, nullTable, downloads);
    expect(perProject).toEqual({
      query:
        'CREATE MATERIALIZED VIEW IF NOT EXISTS `demo`.`pypi_downloads_mv` TO `demo`.`pypi_downloads`\n' +
        'AS SELECT project, count() AS count FROM `demo`.`pypi_null` GROUP BY project',
      params: {},
    });
    const perHour = createPypiDownloadsPerDayView(view, pypi, downloads);
    expect(perHour.query).toContain('SELECT toStartOfHour(timestamp) AS hour, project, count() AS count');
    expect(perHour.query).toContain('FROM `demo`.`pypi` GROUP BY hour, project');
  });

  it.each(['pypi; DROP TABLE x', 'a`b', 'db.t'])('refuses to render a view over the table name %j', (name) => {
    const bad = { database: 'demo', name };
    expect(() => createPypiDownloadsView(view, bad, downloads)).toThrow('refusing to quote identifier');
    expect(() => createPypiDownloadsPerDayView(view, pypi, bad)).toThrow('refusing to quote identifier');
  });

  it('backfills the per-hour target with the view’s own query', () => {
    expect(insertPypiDownloadsPerDay(pypi, downloads).query).toBe(
      'INSERT INTO {target_db:Identifier}.{target:Identifier} (hour, project, count)\n' +
        'SELECT toStartOfHour(timestamp) AS hour, project, count() AS count ' +
        'FROM {source_db:Identifier}.{source:Identifier} GROUP BY hour, project',
    );
  });

  it('gives the per-hour Null table the two columns of the guide', () => {
    expect(createPypiTimestampsNullTable(nullTable).query).toContain(
      '(timestamp DateTime, project String) ENGINE = Null',
    );
    expect(insertPypiTimestamps(pypi, nullTable).query).toContain(
      '(timestamp, project) SELECT timestamp, project FROM',
    );
  });

  it('gives the Null table only the column the view reads', () => {
    expect(createPypiProjectsNullTable(nullTable).query).toBe(
      'CREATE TABLE IF NOT EXISTS {table_db:Identifier}.{table:Identifier} (project String) ENGINE = Null',
    );
    expect(insertPypiProjects(pypi, nullTable).query).toContain('(project) SELECT project FROM');
  });
});

describe('the guide’s views, each with its statements', () => {
  /** A statement's SELECT, white space folded, its source table named SOURCE. */
  const selectOf = (query: string): string =>
    query
      .replace(/\s+/g, ' ')
      .replace(/^.*? SELECT /, 'SELECT ')
      .replace('`demo`.`pypi`', 'SOURCE')
      .replace('{source_db:Identifier}.{source:Identifier}', 'SOURCE');
  /** The names of a column list `(a T, b U)` or `(a, b)` that precedes `before`. */
  const columnsBefore = (query: string, before: string): string[] =>
    (query.match(new RegExp(`\\(([^)]*)\\) ${before}`))?.[1] ?? '').split(',').map((c) => c.trim().split(' ')[0]);

  it.each(Object.entries(PYPI_VIEWS))('%s fills its target plainly with the view’s own query', (_, v) => {
    const viewQuery = v.createView(view, pypi, downloads).query;
    expect(selectOf(v.insertPlain(pypi, downloads).query)).toBe(selectOf(viewQuery));
  });

  it.each(Object.entries(PYPI_VIEWS))('%s fills its Null table with every column the table has', (_, v) => {
    const created = columnsBefore(v.createNullTable(nullTable).query, 'ENGINE = Null');
    expect(created.length).toBeGreaterThan(0);
    expect(columnsBefore(v.insertIntoNull(pypi, nullTable).query, 'SELECT')).toEqual(created);
  });
});
