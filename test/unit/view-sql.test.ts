import type { Statement } from '../../src/clickhouse/statement';
import { viewJobSchema, type ViewJobInput } from '../../src/shared/job-spec';
import {
  dropViewIfExists,
  movePartitionTo,
  selectExpression,
  selectViewDefinition,
  viewColumns,
  viewShape,
  type ViewShape,
} from '../../src/sql/view/view';
import {
  createLiveQueryView,
  createNullFillTable,
  createNullFillView,
  createViewQueryTarget,
  insertNullFill,
  insertViewQueryRange,
  liveViewQuerySelect,
  selectViewQueryPartitions,
  selectViewQueryTableTotals,
  selectViewQueryTotals,
  shorthandViewQuery,
  viewQuery,
  type ViewQueryTotalsReads,
} from '../../src/sql/view/view-sql';
import { hostileStrings, notRefused } from '../helpers/hostile-strings';
import type { TableRef } from '../../src/shared/table-ref';

/** examples/pypi-downloads-per-day.yaml, with a filter and a non-additive aggregate. */
const hourlyJob: ViewJobInput = {
  kind: 'view',
  source: { table: 'raw.pypi', timeColumn: 'timestamp' },
  target: { table: 'agg.pypi_hourly', engine: 'AggregatingMergeTree', partitionBy: 'month' },
  view: { name: 'pypi_hourly_mv' },
  groupBy: { hour: 'toStartOfHour(timestamp)', project: 'project' },
  aggregates: { count: 'count()', installers: 'uniq(installer)' },
  where: 'size > 0',
};

const shapeOf = (overrides: Partial<ViewJobInput> = {}): ViewShape =>
  viewShape(viewJobSchema.parse({ ...hourlyJob, ...overrides }));

const source: TableRef = { database: 'raw', name: 'pypi' };
const target: TableRef = { database: 'agg', name: 'pypi_hourly' };
const view: TableRef = { database: 'agg', name: 'pypi_hourly_mv' };
const shadow: TableRef = { database: 'agg', name: 'pypi_hourly_v2_202402_0badcafe' };
const nullTable: TableRef = { database: 'agg', name: 'pypi_hourly_v2_202402_0badcafe_null' };
const CUTOFF = 1_734_426_000; // 2024-12-17T09:00:00Z

/** The ranged fill of the structured form through the SQL path, as the partition step renders it. */
const rangedFill = (shape: ViewShape, into: TableRef, id: string, cutoff = CUTOFF) =>
  insertViewQueryRange(shorthandViewQuery(shape, source), into, viewColumns(shape), id, cutoff);

/** The structured form as the SQL path's query, with what a Null fill through `through` needs. */
const nullFillQuery = (shape: ViewShape, through: TableRef = nullTable) => shorthandViewQuery(shape, source, through);

/** Every statement that takes its tables as parameters, for properties that must hold of all of them. */
function parameterised(shape: ViewShape, tables = { source, target, shadow, nullTable, view }, id = '202402') {
  return {
    selectExpression: selectExpression(shape.groupBy[0].expr, 'hour', tables.source),
    createViewTarget: createViewQueryTarget(shorthandViewQuery(shape, source), tables.target),
    insertViewRange: rangedFill(shape, tables.shadow, id),
    createNullFillTable: createNullFillTable(nullFillQuery(shape), tables.nullTable, tables.source),
    insertNullFill: insertNullFill(nullFillQuery(shape), tables.source, tables.nullTable, id, CUTOFF),
    selectViewQueryTableTotals: selectViewQueryTableTotals(
      shorthandViewQuery(shape, source),
      { keys: true, sums: [], merged: [{ column: 'count', fn: 'count' }] },
      tables.shadow,
      id,
      false,
    ),
    dropViewIfExists: dropViewIfExists(tables.view),
  } satisfies Record<string, Statement>;
}

/** Names of the `{name:Type}` placeholders of a query. */
const placeholders = (query: string): string[] => [...query.matchAll(/\{(\w+):[^}]+\}/g)].map((m) => m[1]);

describe('the live view', () => {
  const shape = shapeOf();

  it("is the structured form's SELECT with the SQL path's cutoff added to its WHERE, a checked integer literal", () => {
    expect(liveViewQuerySelect(shorthandViewQuery(shape, source), CUTOFF)).toBe(
      [
        'SELECT toStartOfHour(`timestamp`) AS `hour`, `project` AS `project`, ' +
          'countState() AS `count`, uniqState(`installer`) AS `installers`',
        'FROM `raw`.`pypi`',
        `WHERE ((\`size\` > 0)) AND \`timestamp\` >= toDateTime(${CUTOFF})`,
        'GROUP BY `hour`, `project`',
      ].join('\n'),
    );
  });

  it('stores plain count()/sum() into a SummingMergeTree', () => {
    const summing = shapeOf({ target: { table: 'agg.t', engine: 'SummingMergeTree' }, aggregates: { n: 'count()' } });
    expect(liveViewQuerySelect(shorthandViewQuery(summing, source), CUTOFF)).toContain('count() AS `n`');
  });

  it('reads a source column an aggregate is named after (bytes: sum(bytes)) qualified, so the alias cannot capture it', () => {
    const named = shapeOf({
      target: { table: 'agg.t', engine: 'SummingMergeTree', partitionBy: 'month' },
      groupBy: { day: 'toDate(timestamp)' },
      aggregates: { bytes: 'sum(bytes)', timestamp: 'count()' },
      where: 'bytes > 0',
    });
    expect(liveViewQuerySelect(shorthandViewQuery(named, source), CUTOFF)).toBe(
      [
        'SELECT toDate(`pypi`.`timestamp`) AS `day`, sum(`pypi`.`bytes`) AS `bytes`, count() AS `timestamp`',
        'FROM `raw`.`pypi`',
        `WHERE ((\`pypi\`.\`bytes\` > 0)) AND \`pypi\`.\`timestamp\` >= toDateTime(${CUTOFF})`,
        'GROUP BY `day`',
      ].join('\n'),
    );
    expect(rangedFill(named, shadow, '202402').query).toContain(
      'WHERE ((`pypi`.`bytes` > 0)) AND `pypi`.`timestamp` < toDateTime({cutoff:UInt32})\nGROUP BY `day`\n' +
        ') WHERE toYYYYMM(`day`) = {partition_key:UInt32}',
    );
    expect(createNullFillView(nullFillQuery(named), view, shadow).query).toContain(
      'sum(`pypi_hourly_v2_202402_0badcafe_null`.`bytes`) AS `bytes`',
    );
  });

  it('is created IF NOT EXISTS, TO the target, with no parameter (a view stores its text)', () => {
    const create = createLiveQueryView(shorthandViewQuery(shape, source), view, target, CUTOFF);
    expect(create.query).toBe(
      `CREATE MATERIALIZED VIEW IF NOT EXISTS \`agg\`.\`pypi_hourly_mv\` TO \`agg\`.\`pypi_hourly\`\nAS ${liveViewQuerySelect(shorthandViewQuery(shape, source), CUTOFF)}`,
    );
    expect(create.params).toEqual({});
  });

  it.each([0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53])('refuses to render cutoff %p', (cutoff) => {
    expect(() => liveViewQuerySelect(shorthandViewQuery(shape, source), cutoff)).toThrow(/^refusing to render cutoff/);
  });

  it('is compared with an existing view through parameters only', () => {
    const s = selectViewDefinition(view, "SELECT 1 -- '");
    expect(s.query).not.toMatch(/['"]/);
    expect(s.params).toEqual({ db: 'agg', name: 'pypi_hourly_mv', expected: "SELECT 1 -- '" });
  });
});

describe('the fill of one partition', () => {
  const shape = shapeOf();

  it("ranged: the view's SELECT before the cutoff, its rows of the partition, into the shadow's named columns", () => {
    const s = rangedFill(shape, shadow, '202402');
    expect(s.query).toBe(
      [
        'INSERT INTO {into_db:Identifier}.{into:Identifier} (`hour`, `project`, `count`, `installers`)',
        'SELECT `hour`, `project`, `count`, `installers` FROM (SELECT toStartOfHour(`timestamp`) AS `hour`, ' +
          '`project` AS `project`, countState() AS `count`, uniqState(`installer`) AS `installers`',
        'FROM `raw`.`pypi`',
        'WHERE ((`size` > 0)) AND `timestamp` < toDateTime({cutoff:UInt32})',
        'GROUP BY `hour`, `project`',
        ') WHERE toYYYYMM(`hour`) = {partition_key:UInt32}',
      ].join('\n'),
    );
    expect(s.params).toMatchObject({ cutoff: CUTOFF, partition_key: 202402, into: shadow.name });
  });

  it('of an unpartitioned target takes no partition key', () => {
    const all = shapeOf({ target: { table: 'agg.t', engine: 'SummingMergeTree' }, aggregates: { n: 'count()' } });
    const s = rangedFill(all, shadow, 'all');
    expect(s.query).not.toContain('partition_key');
    expect(s.params).not.toHaveProperty('partition_key');
  });

  it('Null engine: a table of only the columns the view reads, and a copy of the view from it into the shadow', () => {
    expect(createNullFillTable(nullFillQuery(shape), nullTable, source).query).toBe(
      'CREATE TABLE {table_db:Identifier}.{table:Identifier} ENGINE = Null EMPTY AS SELECT ' +
        '`timestamp`, `project`, `installer`, `size` FROM {source_db:Identifier}.{source:Identifier}',
    );
    const copy = createNullFillView(nullFillQuery(shape), { database: 'agg', name: 'x_mv' }, shadow).query;
    expect(copy.split('\n')[0]).toBe('CREATE MATERIALIZED VIEW `agg`.`x_mv` TO `agg`.`pypi_hourly_v2_202402_0badcafe`');
    expect(copy).toContain('FROM `agg`.`pypi_hourly_v2_202402_0badcafe_null`\nWHERE (`size` > 0)\n');
    expect(insertNullFill(nullFillQuery(shape), source, nullTable, '202402', CUTOFF).query).toContain(
      'SELECT `timestamp`, `project`, `installer`, `size` FROM {source_db:Identifier}.{source:Identifier}',
    );
  });

  it('Null engine: a view given as SQL, which does not say which source columns it reads, is refused', () => {
    const given = viewQuery(
      viewJobSchema.parse({
        kind: 'view',
        source: { table: 'raw.pypi', timeColumn: 'timestamp' },
        target: { table: 'agg.t', engine: 'SummingMergeTree', orderBy: ['day'] },
        view: { name: 't_mv' },
        select: 'SELECT toDate(timestamp) AS day, count() AS n FROM raw.pypi GROUP BY day',
      }),
    )!;
    const refusal = /only the structured form gives them/;
    expect(() => createNullFillTable(given, nullTable, source)).toThrow(refusal);
    expect(() => createNullFillView(given, view, shadow)).toThrow(refusal);
    expect(() => insertNullFill(given, source, nullTable, '202402', CUTOFF)).toThrow(refusal);
  });

  it('is moved in by partition ID as a parameter, the target allow-list quoted', () => {
    const s = movePartitionTo(shadow, target, '202402');
    expect(s.query).toBe(
      'ALTER TABLE {shadow_db:Identifier}.{shadow:Identifier} MOVE PARTITION ID {partition_id:String} ' +
        'TO TABLE `agg`.`pypi_hourly`',
    );
    expect(s.params).toEqual({ shadow_db: 'agg', shadow: shadow.name, partition_id: '202402' });
  });

  it("is validated through the SQL path: the structured form's query over the partition against the shadow", () => {
    const vq = shorthandViewQuery(shape, source);
    expect(vq.rowCounts).toEqual(['count']);
    const reads: ViewQueryTotalsReads = { keys: true, sums: [], merged: [{ column: 'count', fn: 'count' }] };
    const s = selectViewQueryTotals(vq, reads, '202402', CUTOFF);
    expect(s.query).toBe(
      'SELECT toString(count()) AS rows, toString(uniqExact(`hour`, `project`)) AS keys, ' +
        'toString(countMerge(`count`)) AS merged_0 FROM (' +
        liveViewQuerySelect(vq, CUTOFF).replace(`>= toDateTime(${CUTOFF})`, '< toDateTime({cutoff:UInt32})') +
        '\n) WHERE toYYYYMM(`hour`) = {partition_key:UInt32}',
    );
    expect(s.params).toEqual({ cutoff: CUTOFF, partition_key: 202402 });
    const fast = selectViewQueryTableTotals(vq, { ...reads, keys: false }, shadow, '202402', false);
    expect(fast.query).not.toContain('uniqExact(');
    expect(fast.query).toContain('toString(countMerge(`count`)) AS merged_0');
  });

  it('without keys to compare, reads the same totals by a plain scan: the aggregates without GROUP BY', () => {
    const vq = shorthandViewQuery(shape, source);
    const fast = selectViewQueryTotals(
      vq,
      { keys: false, sums: [], merged: [{ column: 'count', fn: 'count' }] },
      '202402',
      CUTOFF,
    );
    expect(fast.query).toBe(
      [
        'SELECT toString(count()) AS rows, toString(countMerge(`count`)) AS merged_0 FROM (SELECT countState() AS `count`, ' +
          'uniqState(`installer`) AS `installers`',
        'FROM `raw`.`pypi`',
        'WHERE ((`size` > 0)) AND (`timestamp` < toDateTime({cutoff:UInt32})) AND (' +
          'toYYYYMM(toStartOfHour(`timestamp`)) = {partition_key:UInt32})',
        ')',
      ].join('\n'),
    );
    expect(fast.params).toEqual({ cutoff: CUTOFF, partition_key: 202402 });
    // An output named after the column it reads: the partition's source expression reads it qualified too.
    const named = shapeOf({
      target: { table: 'agg.t', engine: 'SummingMergeTree', partitionBy: 'month' },
      groupBy: { day: 'toDate(timestamp)' },
      aggregates: { timestamp: 'count()' },
    });
    const reads = { keys: false, sums: ['timestamp'], merged: [] };
    expect(selectViewQueryTotals(shorthandViewQuery(named, source), reads, '202402', CUTOFF).query).toContain(
      'toYYYYMM(toDate(`pypi`.`timestamp`)) = {partition_key:UInt32}',
    );
  });

  it('merges only the states whose merged total is exact, the function read from the column type', () => {
    const vq = shorthandViewQuery(shape, source);
    const merged = (fn: string) => () =>
      selectViewQueryTableTotals(vq, { keys: false, sums: [], merged: [{ column: 'x', fn }] }, shadow, '1', false);
    expect(merged('sumIf')().query).toContain('toString(sumIfMerge(`x`)) AS merged_0');
    expect(merged('uniq')).toThrow(/^refusing to merge uniq states/);
    expect(merged('sum) FROM system.users --')).toThrow(/^refusing to merge/);
  });

  it('lists partitions by the output rows of the same query before the cutoff', () => {
    const s = selectViewQueryPartitions(shorthandViewQuery(shape, source), CUTOFF);
    expect(s.query).toMatch(
      /^SELECT toString\(toYYYYMM\(`hour`\)\) AS id, toString\(count\(\)\) AS rows FROM \(SELECT /,
    );
    expect(s.query).toContain('< toDateTime({cutoff:UInt32})');
    expect(s.params).toEqual({ cutoff: CUTOFF });
  });
});

describe('every parameterised statement', () => {
  it.each(Object.entries(parameterised(shapeOf())))(
    '%s: has a parameter for each placeholder, and no other',
    (_, s) => {
      expect(new Set(placeholders(s.query))).toEqual(new Set(Object.keys(s.params)));
    },
  );

  it.each(Object.entries(parameterised(shapeOf())))('%s: carries no string literal', (_, s) => {
    expect(s.query).not.toMatch(/['"]/);
  });
});

describe('hostile strings never reach the SQL text of a view job', () => {
  const hostile = hostileStrings();
  const shape = shapeOf();
  const refusal = /^refusing to quote identifier/;

  it('as database or table names: they travel only as Identifier parameters', () => {
    const leaks = hostile.flatMap((h) => {
      const t = { database: h, name: h };
      return Object.entries(parameterised(shape, { source: t, target: t, shadow: t, nullTable: t, view: t }))
        .filter(([, s]) => s.query.includes('Zq9') || !Object.values(s.params).includes(h))
        .map(([name]) => `${name} with ${JSON.stringify(h)}`);
    });
    expect(leaks).toEqual([]);
  });

  it('as a partition ID: it travels only as a parameter', () => {
    const leaks = hostile.flatMap((h) =>
      Object.entries({ ...parameterised(shape, undefined, h), movePartitionTo: movePartitionTo(shadow, target, h) })
        .filter(([, s]) => s.query.includes('Zq9'))
        .map(([name]) => `${name} with ${JSON.stringify(h)}`),
    );
    expect(leaks).toEqual([]);
  });

  it('where the grammar takes no parameter (the view, its TO table, MOVE … TO TABLE), rendering refuses them', () => {
    const accepted = hostile.flatMap((h) => {
      const bad = [
        { database: h, name: 'x' },
        { database: 'agg', name: h },
      ];
      return bad.flatMap((t) =>
        [
          notRefused(() => createLiveQueryView(shorthandViewQuery(shape, source), t, target, CUTOFF), refusal),
          notRefused(() => createLiveQueryView(shorthandViewQuery(shape, t), view, target, CUTOFF), refusal),
          notRefused(() => createLiveQueryView(shorthandViewQuery(shape, source), view, t, CUTOFF), refusal),
          notRefused(() => createNullFillView(nullFillQuery(shape), t, shadow), refusal),
          notRefused(() => createNullFillView(nullFillQuery(shape, t), view, shadow), refusal),
          notRefused(() => createNullFillView(nullFillQuery(shape), view, t), refusal),
          notRefused(() => movePartitionTo(shadow, t, '202402'), refusal),
        ].filter((outcome) => outcome !== undefined),
      );
    });
    expect(accepted).toEqual([]);
  });

  it('as output, time or source column names that slipped past the schema, rendering refuses them or leaves them out', () => {
    const accepted = hostile.flatMap((h) => {
      const shapes: ViewShape[] = [
        { ...shape, groupBy: [...shape.groupBy, { name: h, expr: { kind: 'column', name: 'project' } }] },
        { ...shape, groupBy: [shape.groupBy[0], { name: 'project', expr: { kind: 'column', name: h } }] },
        { ...shape, aggregates: [...shape.aggregates, { name: h, metric: { fn: 'count', params: [], args: [] } }] },
        { ...shape, timeColumn: h },
      ];
      return shapes.flatMap((bad) =>
        [
          notRefused(() => liveViewQuerySelect(shorthandViewQuery(bad, source), CUTOFF), refusal),
          notRefused(() => rangedFill(bad, shadow, '202402'), refusal),
          // The others render a part of the names: each refuses or leaves the string out.
          ...Object.entries({
            createViewTarget: () => createViewQueryTarget(shorthandViewQuery(bad, source), target),
            createNullFillView: () => createNullFillView(nullFillQuery(bad), view, shadow),
            selectViewQueryPartitions: () => selectViewQueryPartitions(shorthandViewQuery(bad, source), CUTOFF),
            createNullFillTable: () => createNullFillTable(nullFillQuery(bad), nullTable, source),
            insertNullFill: () => insertNullFill(nullFillQuery(bad), source, nullTable, '202402', CUTOFF),
            selectViewQueryTotals: () =>
              selectViewQueryTotals(
                shorthandViewQuery(bad, source),
                { keys: true, sums: [], merged: [] },
                '202402',
                CUTOFF,
              ),
          }).flatMap(([name, render]) => {
            const outcome = notRefused(render, refusal);
            return outcome?.includes('Zq9') ? [`${name}: ${outcome}`] : [];
          }),
        ].filter((outcome) => outcome !== undefined),
      );
    });
    expect(accepted).toEqual([]);
  });

  it('as function names or numbers in a parsed tree that slipped past the parser, rendering refuses them', () => {
    const accepted = hostile.flatMap((h) => {
      const badFunction: ViewShape = {
        ...shape,
        aggregates: [{ name: 'n', metric: { fn: h, params: [], args: [] } }],
      };
      const badNumber: ViewShape = {
        ...shape,
        where: { kind: 'binary', op: '>', left: { kind: 'column', name: 'size' }, right: { kind: 'number', text: h } },
      };
      return [
        notRefused(
          () => liveViewQuerySelect(shorthandViewQuery(badFunction, source), CUTOFF),
          /^refusing to render function name/,
        ),
        notRefused(
          () => liveViewQuerySelect(shorthandViewQuery(badNumber, source), CUTOFF),
          /^refusing to render number/,
        ),
        notRefused(
          () => selectViewQueryPartitions(shorthandViewQuery(badNumber, source), CUTOFF),
          /^refusing to render number/,
        ),
      ].filter((outcome) => outcome !== undefined);
    });
    expect(accepted).toEqual([]);
  });
});
