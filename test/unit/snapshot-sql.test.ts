import type { Statement } from '../../src/clickhouse/statement';
import { viewJobSchema, type ViewJobInput } from '../../src/shared/job-spec';
import { attachPartitionFrom, createTableLike, dropTableIfExists } from '../../src/sql/engine/partition-ops';
import { selectActivePartitions } from '../../src/sql/snapshot/snapshot';
import { viewColumns, viewShape, type ViewShape } from '../../src/sql/view/view';
import {
  createLiveQueryView,
  insertNullFill,
  insertViewQueryRange,
  liveViewQuerySelect,
  selectViewQueryPartitions,
  selectViewQueryTotals,
  shorthandViewQuery,
} from '../../src/sql/view/view-sql';
import { hostileStrings, notRefused } from '../helpers/hostile-strings';
import type { TableRef } from '../../src/shared/table-ref';

/** examples/pypi-downloads-per-day-snapshot.yaml: no time column, cutoff: snapshot. */
const snapshotJob: ViewJobInput = {
  kind: 'view',
  source: { table: 'raw.pypi' },
  target: { table: 'agg.pypi_hourly', engine: 'SummingMergeTree', partitionBy: 'month' },
  view: { name: 'pypi_hourly_mv' },
  groupBy: { hour: 'toStartOfHour(timestamp)', project: 'project' },
  aggregates: { count: 'count()' },
  cutoff: 'snapshot',
};

const shapeOf = (overrides: Partial<ViewJobInput> = {}): ViewShape =>
  viewShape(viewJobSchema.parse({ ...snapshotJob, ...overrides }));

const source: TableRef = { database: 'raw', name: 'pypi' };
const snapshot: TableRef = { database: 'raw', name: 'pypi_snapshot_0badcafe' };
const target: TableRef = { database: 'agg', name: 'pypi_hourly' };
const view: TableRef = { database: 'agg', name: 'pypi_hourly_mv' };
const shadow: TableRef = { database: 'agg', name: 'pypi_hourly_v2_202402_0badcafe' };

/** The ranged fill of the structured form through the SQL path, from the snapshot (it names its tables). */
const rangedFill = (shape: ViewShape, into: TableRef, id: string, cutoff?: number, from: TableRef = snapshot) =>
  insertViewQueryRange(shorthandViewQuery(shape, from), into, viewColumns(shape), id, cutoff);

/** Every statement of a snapshot job that takes its tables and partition as parameters. */
function parameterised(shape: ViewShape, t = { source, snapshot, shadow }, id = '202402') {
  return {
    selectActivePartitions: selectActivePartitions(t.source),
    dropSnapshot: dropTableIfExists(t.snapshot),
    insertViewRange: rangedFill(shape, t.shadow, id),
    insertNullFill: insertNullFill(
      // The query names its tables (a view stores its text); the statement's tables travel as parameters.
      shorthandViewQuery(shape, snapshot, shadow),
      t.snapshot,
      t.shadow,
      id,
      undefined,
    ),
  } satisfies Record<string, Statement>;
}

const placeholders = (query: string): string[] => [...query.matchAll(/\{(\w+):[^}]+\}/g)].map((m) => m[1]);

describe('the snapshot of the source', () => {
  it('is a table created AS the source (allow-list quoted), then each partition attached by ID from it', () => {
    expect(createTableLike(snapshot, source)).toEqual({
      query: 'CREATE TABLE {table_db:Identifier}.{table:Identifier} AS `raw`.`pypi`',
      params: { table_db: 'raw', table: 'pypi_snapshot_0badcafe' },
    });
    expect(attachPartitionFrom(snapshot, source, '202401')).toEqual({
      query:
        'ALTER TABLE {into_db:Identifier}.{into:Identifier} ATTACH PARTITION ID {partition_id:String} FROM `raw`.`pypi`',
      params: { into_db: 'raw', into: 'pypi_snapshot_0badcafe', partition_id: '202401' },
    });
  });

  it("lists the source's partitions and rows from part metadata, every value a parameter", () => {
    const s = selectActivePartitions(source);
    expect(s.query).toContain('FROM system.parts');
    expect(s.query).toContain('AND active');
    expect(s.params).toEqual({ db: 'raw', name: 'pypi' });
  });
});

describe('the view and the fill of a snapshot job: no cutoff', () => {
  const shape = shapeOf();

  it('the view reads every row: no WHERE at all', () => {
    expect(liveViewQuerySelect(shorthandViewQuery(shape, source), undefined)).toBe(
      [
        'SELECT toStartOfHour(`timestamp`) AS `hour`, `project` AS `project`, count() AS `count`',
        'FROM `raw`.`pypi`',
        'GROUP BY `hour`, `project`',
      ].join('\n'),
    );
    expect(createLiveQueryView(shorthandViewQuery(shape, source), view, target, undefined).query).toBe(
      `CREATE MATERIALIZED VIEW IF NOT EXISTS \`agg\`.\`pypi_hourly_mv\` TO \`agg\`.\`pypi_hourly\`\nAS ${liveViewQuerySelect(shorthandViewQuery(shape, source), undefined)}`,
    );
  });

  it("the fill reads the snapshot's rows of the partition only, with the view's filter", () => {
    const filtered = shapeOf({ where: 'size > 0' });
    const s = rangedFill(filtered, shadow, '202402');
    expect(s.query).toContain(
      'FROM `raw`.`pypi_snapshot_0badcafe`\nWHERE (`size` > 0)\nGROUP BY `hour`, `project`\n' +
        ') WHERE toYYYYMM(`hour`) = {partition_key:UInt32}',
    );
    expect(s.params).toMatchObject({ partition_key: 202402 });
    expect(s.params).not.toHaveProperty('cutoff');
  });

  it('of an unpartitioned target without a filter has no WHERE clause in any statement', () => {
    const all = shapeOf({ target: { table: 'agg.t', partitionBy: 'none' } });
    const { insertViewRange: ranged, insertNullFill: nullFill } = parameterised(all, undefined, 'all');
    // The listing and the totals run the view's query over the snapshot, named in it (a view stores its text).
    const partitions = selectViewQueryPartitions(shorthandViewQuery(all, snapshot), undefined);
    const reads = { keys: true, sums: ['count'], merged: [] };
    const totals = selectViewQueryTotals(shorthandViewQuery(all, snapshot), reads, 'all', undefined);
    const withWhere = Object.entries({ partitions, ranged, nullFill, totals }).filter(([, s]) =>
      s.query.includes('WHERE'),
    );
    expect(withWhere).toEqual([]);
    expect(partitions.query).toContain(
      'FROM `raw`.`pypi_snapshot_0badcafe`\nGROUP BY `hour`, `project`\n) GROUP BY id',
    );
    expect(partitions.params).toEqual({});
  });

  it('refuses to render a cutoff without a time column, and a timed job without its cutoff', () => {
    const timed = viewShape(
      viewJobSchema.parse({ ...snapshotJob, source: { table: 'raw.pypi', timeColumn: 'timestamp' }, cutoff: 'auto' }),
    );
    expect(() => liveViewQuerySelect(shorthandViewQuery(shape, source), 1_734_426_000)).toThrow(
      /^refusing to render a cutoff/,
    );
    expect(() => liveViewQuerySelect(shorthandViewQuery(timed, source), undefined)).toThrow(
      /^refusing to render a cutoff/,
    );
    expect(() => rangedFill(timed, shadow, '202402', undefined, source)).toThrow(/^refusing to render a cutoff/);
    expect(() => rangedFill(shape, shadow, '202402', 1_734_426_000)).toThrow(/^refusing to render a cutoff/);
    expect(() =>
      selectViewQueryTotals(
        shorthandViewQuery(timed, source),
        { keys: true, sums: [], merged: [] },
        '202402',
        undefined,
      ),
    ).toThrow(/^refusing to render a cutoff/);
    expect(() => selectViewQueryPartitions(shorthandViewQuery(timed, source), undefined)).toThrow(
      /^refusing to render a cutoff/,
    );
    expect(() =>
      insertNullFill(shorthandViewQuery(timed, source, shadow), source, shadow, '202402', undefined),
    ).toThrow(/^refusing to render a cutoff/);
    expect(() =>
      insertNullFill(shorthandViewQuery(shape, source, shadow), source, shadow, '202402', 1_734_426_000),
    ).toThrow(/^refusing to render a cutoff/);
  });

  it.each(Object.entries(parameterised(shapeOf())))(
    '%s: a parameter for each placeholder, no other, no string literal',
    (_, s) => {
      expect(new Set(placeholders(s.query))).toEqual(new Set(Object.keys(s.params)));
      expect(s.query).not.toMatch(/['"]/);
    },
  );
});

describe('hostile strings never reach the SQL text of a snapshot job', () => {
  const hostile = hostileStrings();
  const shape = shapeOf();
  const refusal = /^refusing to quote identifier/;

  it('as database or table names of the source, snapshot or shadow: they travel only as Identifier parameters', () => {
    const leaks = hostile.flatMap((h) => {
      const t = { database: h, name: h };
      return Object.entries(parameterised(shape, { source: t, snapshot: t, shadow: t }))
        .filter(([, s]) => s.query.includes('Zq9') || !Object.values(s.params).includes(h))
        .map(([name]) => `${name} with ${JSON.stringify(h)}`);
    });
    expect(leaks).toEqual([]);
  });

  it('as a partition ID to attach or fill: it travels only as a parameter', () => {
    const leaks = hostile.flatMap((h) =>
      Object.entries({ ...parameterised(shape, undefined, h), attach: attachPartitionFrom(snapshot, source, h) })
        .filter(([name, s]) => s.query.includes('Zq9') || (name === 'attach' && s.params.partition_id !== h))
        .map(([name]) => `${name} with ${JSON.stringify(h)}`),
    );
    expect(leaks).toEqual([]);
  });

  it('where the grammar takes no parameter (CREATE TABLE … AS, ATTACH … FROM, the view, the fill SELECT), rendering refuses them', () => {
    const accepted = hostile.flatMap((h) =>
      [
        { database: h, name: 'pypi' },
        { database: 'raw', name: h },
      ].flatMap((t) =>
        [
          notRefused(() => createTableLike(snapshot, t), refusal),
          notRefused(() => attachPartitionFrom(snapshot, t, '202401'), refusal),
          notRefused(() => createLiveQueryView(shorthandViewQuery(shape, t), view, target, undefined), refusal),
          notRefused(() => createLiveQueryView(shorthandViewQuery(shape, source), t, target, undefined), refusal),
          notRefused(() => rangedFill(shape, shadow, '202402', undefined, t), refusal),
        ].filter((outcome) => outcome !== undefined),
      ),
    );
    expect(accepted).toEqual([]);
  });
});
