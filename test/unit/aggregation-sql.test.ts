import type { Statement } from '../../src/clickhouse/statement';
import { aggregateJobSchema, type JobSpecInput } from '../../src/shared/job-spec';
import { createTargetTable, insertAggregation, selectAggregation } from '../../src/sql/aggregate/aggregation';
import { aggregationShape, type AggregationShape } from '../../src/sql/aggregate/aggregation-shape';
import {
  createTableLike,
  dropTableIfExists,
  replacePartition,
  truncateTable,
} from '../../src/sql/engine/partition-ops';
import { selectSourcePartitionStats } from '../../src/sql/aggregate/source-stats';
import { selectPartitionTotals, selectSourceTotals } from '../../src/sql/aggregate/totals';
import { hostileStrings, notRefused } from '../helpers/hostile-strings';
import type { TableRef } from '../../src/shared/table-ref';

const exampleJob: JobSpecInput = {
  kind: 'aggregate',
  source: { table: 'raw.events', timeColumn: 'ts' },
  target: { table: 'agg.events_daily' },
  keys: ['user_id', 'host', 'device_ip'],
  date: { column: 'date', expression: 'toDate(ts)' },
  metrics: {
    daily_events: 'count()',
    daily_sum_ctr: 'sum(ctr)',
    daily_sum_sq_ctr: 'sum(ctr * ctr)',
    hours: 'groupUniqArray(toHour(ts))',
    p90: 'quantile(0.9)(ctr)',
  },
};

const shapeOf = (overrides: Partial<JobSpecInput> = {}): AggregationShape =>
  aggregationShape(aggregateJobSchema.parse({ ...exampleJob, ...overrides }));

const source: TableRef = { database: 'raw', name: 'events' };
const target: TableRef = { database: 'agg', name: 'events_daily' };
const shadow: TableRef = { database: 'agg', name: 'events_daily_v2_202402' };
const february = { start: '2024-02-01', end: '2024-03-01' };

/** Every statement the job renders, for properties that must hold of all of them. */
function everyStatement(shape: AggregationShape, tables = { source, target, shadow }, range = february, id = '202402') {
  return {
    'selectAggregation, salt 1': selectAggregation(shape, tables.source, range, 1),
    'selectAggregation, salt 8': selectAggregation(shape, tables.source, range, 8),
    'insertAggregation, salt 1': insertAggregation(shape, tables.source, tables.shadow, range, 1),
    'insertAggregation, salt 8': insertAggregation(shape, tables.source, tables.shadow, range, 8),
    createTargetTable: createTargetTable(shape, tables.source, tables.target),
    'selectSourceTotals, full': selectSourceTotals(shape, tables.source, range, true, true),
    'selectSourceTotals, fast': selectSourceTotals(shape, tables.source, range, false, false),
    selectPartitionTotals: selectPartitionTotals(shape, tables.shadow, id),
    selectSourcePartitionStats: selectSourcePartitionStats(shape, tables.source, range),
    dropTableIfExists: dropTableIfExists(tables.shadow),
    truncateTable: truncateTable(tables.shadow),
  } satisfies Record<string, Statement>;
}

/** Names of the `{name:Type}` placeholders of a query. */
const placeholders = (query: string): string[] => [...query.matchAll(/\{(\w+):[^}]+\}/g)].map((m) => m[1]);

describe('the single-level aggregation (salt 1)', () => {
  const stmt = selectAggregation(shapeOf(), source, february, 1);

  it('uses plain aggregates, with no -State/-Merge and no salt', () => {
    expect(stmt.query).not.toContain('State(');
    expect(stmt.query).not.toContain('Merge(');
    expect(stmt.query).not.toContain('rand()');
    expect(stmt.params).not.toHaveProperty('salt');
  });

  it('groups once, by keys and date', () => {
    expect(stmt.query.match(/GROUP BY/g)).toHaveLength(1);
    expect(stmt.query).toContain('GROUP BY `user_id`, `host`, `device_ip`, `__date`)');
  });

  it('renders every metric as its aggregate, aliased to its output name', () => {
    expect(stmt.query).toContain('count() AS `__m0`');
    expect(stmt.query).toContain('sum((`ctr` * `ctr`)) AS `__m2`');
    expect(stmt.query).toContain('groupUniqArray(toHour(`ts`)) AS `__m3`');
    expect(stmt.query).toContain('quantile(0.9)(`ctr`) AS `__m4`');
    expect(stmt.query).toContain('`__m3` AS `hours`');
  });

  it('filters the date range through parameters', () => {
    expect(stmt.query).toContain('WHERE toDate(`ts`) >= {range_start:Date} AND toDate(`ts`) < {range_end:Date}');
    expect(stmt.params).toMatchObject({ range_start: '2024-02-01', range_end: '2024-03-01' });
  });
});

describe('the two-level aggregation (salt > 1)', () => {
  const stmt = selectAggregation(shapeOf(), source, february, 8);

  it('builds a -State per metric inside, and merges it outside with the same parameters', () => {
    expect(stmt.query).toContain('countState() AS `__m0`');
    expect(stmt.query).toContain('sumState(`ctr`) AS `__m1`');
    expect(stmt.query).toContain('groupUniqArrayState(toHour(`ts`)) AS `__m3`');
    expect(stmt.query).toContain('quantileState(0.9)(`ctr`) AS `__m4`');
    expect(stmt.query).toContain('countMerge(`__m0`) AS `daily_events`');
    expect(stmt.query).toContain('quantileMerge(0.9)(`__m4`) AS `p90`');
    expect(stmt.query.match(/State\(/g)).toHaveLength(5);
    expect(stmt.query.match(/Merge\(/g)).toHaveLength(5);
  });

  it('groups inside by keys, date and the salt, and outside by keys and date', () => {
    expect(stmt.query).toContain('GROUP BY `user_id`, `host`, `device_ip`, `__date`, rand() % {salt:UInt32})');
    expect(stmt.query).toMatch(/\nGROUP BY `user_id`, `host`, `device_ip`, `__date`$/);
  });

  it('passes the salt and the date range as parameters', () => {
    expect(stmt.params).toMatchObject({ salt: 8, range_start: '2024-02-01', range_end: '2024-03-01' });
    expect(stmt.query).not.toMatch(/\b8\b/);
    expect(stmt.query).not.toContain('2024');
  });
});

describe('insertAggregation', () => {
  it('names every output column in table order: keys, date, metrics', () => {
    const stmt = insertAggregation(shapeOf(), source, shadow, february, 3);
    expect(stmt.query.split('\n')[0]).toBe(
      'INSERT INTO {into_db:Identifier}.{into:Identifier} ' +
        '(`user_id`, `host`, `device_ip`, `date`, `daily_events`, `daily_sum_ctr`, `daily_sum_sq_ctr`, `hours`, `p90`)',
    );
    expect(stmt.params).toMatchObject({ into_db: 'agg', into: 'events_daily_v2_202402', source_db: 'raw' });
    expect(stmt.params).toHaveProperty('salt', 3);
  });
});

describe('createTargetTable', () => {
  it('creates a MergeTree partitioned by month of the date and ordered by keys and date, from no data', () => {
    const stmt = createTargetTable(shapeOf(), source, target);
    expect(stmt.query).toContain('CREATE TABLE IF NOT EXISTS {target_db:Identifier}.{target:Identifier}');
    expect(stmt.query).toContain('ENGINE = MergeTree\nPARTITION BY toYYYYMM(`date`)');
    expect(stmt.query).toContain('ORDER BY (`user_id`, `host`, `device_ip`, `date`)');
    expect(stmt.query).toContain('EMPTY AS SELECT');
    expect(stmt.query).not.toContain('State(');
  });

  it('partitions by day for a daily job, with the date column it names', () => {
    const stmt = createTargetTable(
      shapeOf({ partitionBy: 'day', date: { column: 'day', expression: 'toDate(ts)' } }),
      source,
      target,
    );
    expect(stmt.query).toContain('PARTITION BY toYYYYMMDD(`day`)');
    expect(stmt.query).toContain('ORDER BY (`user_id`, `host`, `device_ip`, `day`)');
  });
});

describe('totals for validation', () => {
  it('full: rows, distinct keys and dates, and only the additive metrics (sum, count)', () => {
    const stmt = selectSourceTotals(shapeOf(), source, february, true, true);
    expect(stmt.query).toContain('count() AS rows');
    expect(stmt.query).toContain('uniqExact(`user_id`, `host`, `device_ip`, toDate(`ts`)) AS groups');
    expect(stmt.query).toContain('count() AS metric_0, sum(`ctr`) AS metric_1, sum((`ctr` * `ctr`)) AS metric_2 FROM');
    expect(stmt.query).not.toContain('groupUniqArray');
    expect(stmt.query).not.toContain('quantile');
    expect(stmt.params).toMatchObject({ range_start: '2024-02-01', range_end: '2024-03-01' });
  });

  it('fast: only the row count', () => {
    const stmt = selectSourceTotals(shapeOf(), source, february, false, false);
    expect(stmt.query).toMatch(/^SELECT count\(\) AS rows FROM /);
  });

  it('of a partition: sums of the additive output columns, the partition ID as a parameter', () => {
    const stmt = selectPartitionTotals(shapeOf(), shadow, '202402');
    expect(stmt.query).toBe(
      'SELECT count() AS rows, sum(`daily_events`) AS metric_0, sum(`daily_sum_ctr`) AS metric_1, ' +
        'sum(`daily_sum_sq_ctr`) AS metric_2 FROM {table_db:Identifier}.{table:Identifier} ' +
        'WHERE _partition_id = {partition_id:String}',
    );
    expect(stmt.params).toEqual({ table_db: 'agg', table: 'events_daily_v2_202402', partition_id: '202402' });
  });
});

describe('source partition statistics', () => {
  it.each([
    ['month', 'toYYYYMM'],
    ['day', 'toYYYYMMDD'],
  ] as const)('by %s, names each partition with %s of the date expression', (partitionBy, fn) => {
    const stmt = selectSourcePartitionStats(shapeOf({ partitionBy }), source, february);
    expect(stmt.query).toContain(`SELECT toString(${fn}(toDate(\`ts\`))) AS id`);
    expect(stmt.query).toContain('approx_top_count(1, 10000)(cityHash64(`user_id`, `host`, `device_ip`))');
    expect(stmt.params).toMatchObject({ source_db: 'raw', source: 'events', range_start: '2024-02-01' });
  });
});

describe('partition operations', () => {
  it('creates the shadow like the target, the shadow as a parameter and the target allow-list quoted', () => {
    expect(createTableLike(shadow, target)).toEqual({
      query: 'CREATE TABLE {table_db:Identifier}.{table:Identifier} AS `agg`.`events_daily`',
      params: { table_db: 'agg', table: 'events_daily_v2_202402' },
    });
  });

  it('replaces one partition by its ID, given as a parameter', () => {
    expect(replacePartition(target, shadow, '202402')).toEqual({
      query:
        'ALTER TABLE {target_db:Identifier}.{target:Identifier} REPLACE PARTITION ID {partition_id:String} ' +
        'FROM `agg`.`events_daily_v2_202402`',
      params: { target_db: 'agg', target: 'events_daily', partition_id: '202402' },
    });
  });
});

describe('every statement', () => {
  it.each(Object.entries(everyStatement(shapeOf())))(
    '%s: has a parameter for each placeholder, and no other',
    (_, s) => {
      expect(new Set(placeholders(s.query))).toEqual(new Set(Object.keys(s.params)));
    },
  );

  it.each(Object.entries(everyStatement(shapeOf())))('%s: carries no string literal', (_, s) => {
    expect(s.query).not.toMatch(/['"]/);
  });
});

/** The query text of every statement for `shape`, or '' where rendering refused. */
function everyStatementOrRefusal(shape: AggregationShape): Record<string, string> {
  const render = (name: string, make: () => Statement): [string, string] => {
    try {
      return [name, make().query];
    } catch {
      return [name, ''];
    }
  };
  return Object.fromEntries([
    render('selectSourceTotals', () => selectSourceTotals(shape, source, february, true, true)),
    render('selectPartitionTotals', () => selectPartitionTotals(shape, shadow, '202402')),
    render('selectSourcePartitionStats', () => selectSourcePartitionStats(shape, source, february)),
  ]);
}

describe('hostile strings never reach the SQL text', () => {
  const hostile = hostileStrings();
  const shape = shapeOf();
  // One assertion per property over all strings: the lists name every string and statement that broke it.

  it('as database or table names: they travel only as Identifier parameters', () => {
    const leaks = hostile.flatMap((h) => {
      const tables = {
        source: { database: h, name: h },
        target: { database: h, name: h },
        shadow: { database: h, name: h },
      };
      return Object.entries(everyStatement(shape, tables))
        .filter(([, s]) => s.query.includes('Zq9') || !Object.values(s.params).includes(h))
        .map(([name]) => `${name} with ${JSON.stringify(h)}`);
    });
    expect(leaks).toEqual([]);
  });

  it('as dates of the range or a partition ID: they travel only as parameters', () => {
    const leaks = hostile.flatMap((h) =>
      Object.entries({
        ...everyStatement(shape, undefined, { start: h, end: h }, h),
        replacePartition: replacePartition(target, shadow, h),
      })
        .filter(([, s]) => s.query.includes('Zq9'))
        .map(([name]) => `${name} with ${JSON.stringify(h)}`),
    );
    expect(leaks).toEqual([]);
    expect(replacePartition(target, shadow, hostile[0]).params.partition_id).toBe(hostile[0]);
  });

  it('where the grammar takes no parameter (CREATE … AS, REPLACE … FROM), rendering refuses them', () => {
    const refusal = /^refusing to quote identifier/;
    const accepted = hostile.flatMap((h) =>
      [
        notRefused(() => createTableLike(shadow, { database: 'agg', name: h }), refusal),
        notRefused(() => createTableLike(shadow, { database: h, name: 'events_daily' }), refusal),
        notRefused(() => replacePartition(target, { database: 'agg', name: h }, '202402'), refusal),
        notRefused(() => replacePartition(target, { database: h, name: 'events_daily' }, '202402'), refusal),
      ].filter((outcome) => outcome !== undefined),
    );
    expect(accepted).toEqual([]);
  });

  it('as column, key or metric names that slipped past the schema, rendering refuses them or leaves them out', () => {
    const broken = hostile.flatMap((h) => {
      const shapes: AggregationShape[] = [
        { ...shape, keys: ['user_id', h] },
        { ...shape, dateColumn: h },
        { ...shape, metrics: [...shape.metrics, { name: h, metric: { fn: 'count', params: [], args: [] } }] },
        { ...shape, metrics: [{ name: 'n', metric: { fn: 'sum', params: [], args: [{ kind: 'column', name: h }] } }] },
        { ...shape, dateExpr: { kind: 'call', name: 'toDate', args: [{ kind: 'column', name: h }] } },
      ];
      return shapes.flatMap((bad) => [
        // These two render every name of the job, so they must refuse.
        notRefused(() => insertAggregation(bad, source, shadow, february, 4), /^refusing to quote identifier/),
        notRefused(() => createTargetTable(bad, source, target), /^refusing to quote identifier/),
        // The others render some of the names: each either refuses or leaves the string out.
        ...Object.values(everyStatementOrRefusal(bad)).filter((sql) => sql.includes('Zq9')),
      ]);
    });
    expect(broken.filter((outcome) => outcome !== undefined)).toEqual([]);
  });

  it('as function names or numbers in a parsed tree that slipped past the parser, rendering refuses them', () => {
    const accepted = hostile.flatMap((h) => {
      const badFunction: AggregationShape = {
        ...shape,
        metrics: [{ name: 'n', metric: { fn: h, params: [], args: [] } }],
      };
      const badNumber: AggregationShape = {
        ...shape,
        metrics: [{ name: 'n', metric: { fn: 'quantile', params: [{ kind: 'number', text: h }], args: [] } }],
      };
      return [
        notRefused(() => selectAggregation(badFunction, source, february, 1), /^refusing to render function name/),
        notRefused(() => selectAggregation(badFunction, source, february, 2), /^refusing to render function name/),
        notRefused(() => selectAggregation(badNumber, source, february, 1), /^refusing to render number/),
      ].filter((outcome) => outcome !== undefined);
    });
    expect(accepted).toEqual([]);
  });
});
