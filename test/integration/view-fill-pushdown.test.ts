import type { ClickHouse } from '../../src/clickhouse/clickhouse';
import { viewJobSchema } from '../../src/shared/job-spec';
import { viewColumns, viewShape } from '../../src/sql/view/view';
import { insertViewQueryRange, shorthandViewQuery } from '../../src/sql/view/view-sql';
import type { TableRef } from '../../src/shared/table-ref';
import { freshDatabase, openTestClickHouse } from '../helpers/chdb-env';
import { statementOf } from '../helpers/statement-of';

/*
 * The ranged fill of a structured view goes through the SQL path: the view's SELECT before the cutoff as a subquery,
 * its output rows of one partition chosen outside the GROUP BY. The server must push that filter below the GROUP BY
 * into the read of the source, or every partition's fill would aggregate the whole source.
 */

describe("the ranged fill of a structured view's partition", () => {
  let ch: ClickHouse;
  let source: TableRef;

  beforeAll(async () => {
    ch = openTestClickHouse();
    const db = await freshDatabase(ch, 'pushdown');
    source = { database: db, name: 'pypi' };
    await ch.exec({
      query:
        'CREATE TABLE {db:Identifier}.pypi (timestamp DateTime, project String, size UInt64) ' +
        'ENGINE = MergeTree PARTITION BY toYYYYMM(timestamp) ORDER BY (project, timestamp)',
      params: { db },
    });
    await ch.exec({
      query:
        "INSERT INTO {db:Identifier}.pypi SELECT toDateTime('2024-01-01 00:00:00') + number * 3600, " +
        'toString(number % 7), number FROM numbers(2000)',
      params: { db },
    });
  });

  afterAll(async () => {
    await ch.exec({ query: 'DROP DATABASE IF EXISTS {db:Identifier}', params: { db: source.database } });
    await ch.close();
  });

  it('reads only the rows of its partition: the partition filter is pushed below the GROUP BY', async () => {
    const job = viewJobSchema.parse({
      kind: 'view',
      source: { table: `${source.database}.pypi`, timeColumn: 'timestamp' },
      target: { table: `${source.database}.hourly`, engine: 'SummingMergeTree', partitionBy: 'month' },
      view: { name: 'hourly_mv' },
      groupBy: { hour: 'toStartOfHour(timestamp)', project: 'project' },
      aggregates: { downloads: 'count()', bytes: 'sum(size)' },
      where: 'size > 0',
    });
    const shape = viewShape(job);
    const into: TableRef = { database: source.database, name: 'shadow' };
    const fill = insertViewQueryRange(
      shorthandViewQuery(shape, source),
      into,
      viewColumns(shape),
      '202402',
      1_734_426_000,
    );
    // The fill's SELECT, without its INSERT line (EXPLAIN takes the SELECT).
    const select = fill.query.split('\n').slice(1).join('\n');
    const { cutoff, partition_key } = fill.params as Record<string, number>;
    const lines = (
      await ch.rows(
        statementOf<{ explain: string } | string>({
          query: `EXPLAIN actions = 1 ${select}`,
          params: { cutoff, partition_key },
        }),
      )
    ).map((row) => (typeof row === 'string' ? row : row.explain));
    const aggregating = lines.findIndex((line) => line.trim().startsWith('Aggregating'));
    expect(aggregating).toBeGreaterThanOrEqual(0);
    const belowIt = lines.slice(aggregating + 1).join('\n');
    // toYYYYMM(hour) = 202402, pushed into the source read as the range of its hours.
    expect(belowIt).toMatch(/ReadFromMergeTree/);
    expect(belowIt).toContain("toStartOfHour(timestamp) >= '2024-02-01 00:00:00'");
    expect(belowIt).toContain("toStartOfHour(timestamp) < '2024-03-01 00:00:00'");
  });
});
