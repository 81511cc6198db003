import type { Statement } from '../../src/clickhouse/statement';
import { type ImportBatchBuild, type ImportTarget } from '../../src/shared/import-input';
import { formatCheckpoint } from '../../src/shared/import-batch-task';
import { describeIssues } from '../../src/shared/input-errors';
import { importJobSchema } from '../../src/shared/job-spec';
import { ExpressionSyntaxError } from '../../src/shared/expression-syntax';
import {
  createViewCopy,
  insertImportBatch,
  isRowWisePlan,
  parsePartitionKey,
  selectColumnDetails,
  selectDependentViews,
  selectImportBatchRows,
  selectImportBatches,
  selectImportTableInfo,
  selectTablePartitions,
  selectTargetTotals,
  selectTimeRange,
  selectViewsTotals,
  targetChecks,
} from '../../src/sql/import/import';
import { repointViewSelect } from '../../src/sql/import/repoint-view-select';
import { hostileStrings, notRefused } from '../helpers/hostile-strings';
import type { TableRef } from '../../src/shared/table-ref';

const main: TableRef = { database: 'web', name: 'pypi' };
const history: TableRef = { database: 'web', name: 'pypi_history' };
const dup: TableRef = { database: 'web', name: 'pypi_v2_202401_0badcafe' };
const build: ImportBatchBuild = {
  kind: 'import-batch',
  checkpoint: 1_734_426_000_000_000,
  fromMicros: 1_704_067_200_000_000,
  toMicros: 1_706_745_599_000_001,
  partitionKey: 'toYYYYMM(timestamp)',
  columns: ['timestamp', 'project'],
};
const summing: ImportTarget = {
  table: { database: 'web', name: 'pypi_downloads' },
  engine: 'SummingMergeTree',
  rows: false,
  totals: [{ column: 'count', read: 'sum' }],
};

/** Every statement of the import kind that takes its tables as parameters. */
function parameterised(tables = { main, history, dup }, id = '202401') {
  return {
    selectDependentViews: selectDependentViews(tables.main),
    selectImportTableInfo: selectImportTableInfo(tables.main),
    selectColumnDetails: selectColumnDetails(tables.main),
    selectTimeRange: selectTimeRange(tables.main, 'timestamp'),
    selectImportBatches: selectImportBatches(tables.history, 'timestamp', build.partitionKey, build.checkpoint),
    insertImportBatch: insertImportBatch(tables.history, tables.dup, 'timestamp', build, id),
    selectImportBatchRows: selectImportBatchRows(tables.history, 'timestamp', build, id),
    selectTablePartitions: selectTablePartitions(tables.dup),
    selectTargetTotals: selectTargetTotals(tables.dup, summing),
  } satisfies Record<string, Statement>;
}

const placeholders = (query: string): string[] => [...query.matchAll(/\{(\w+):[^}]+\}/g)].map((m) => m[1]);

describe("re-pointing a view's stored SELECT at a duplicate", () => {
  const repoint = (select: string) => repointViewSelect(select, main, dup);

  it('replaces the one qualified reference after FROM and keeps every other character', () => {
    const select = "SELECT project, count() AS count FROM web.pypi WHERE url != 'web.pypi' GROUP BY project";
    expect(repoint(select)).toBe(
      "SELECT project, count() AS count FROM `web`.`pypi_v2_202401_0badcafe` WHERE url != 'web.pypi' GROUP BY project",
    );
  });

  it('finds the reference quoted with backticks or double quotes, and ignores it in comments and literals', () => {
    expect(repoint('SELECT 1 FROM `web`.`pypi` /* web.pypi */')).toBe(
      'SELECT 1 FROM `web`.`pypi_v2_202401_0badcafe` /* web.pypi */',
    );
    expect(repoint('SELECT "pypi\'s" AS x FROM "web"."pypi" -- web.pypi')).toContain(
      'FROM `web`.`pypi_v2_202401_0badcafe` -- web.pypi',
    );
    expect(repoint("SELECT 'it''s web.pypi', $$web.pypi$$ FROM web.pypi AS p")).toBe(
      "SELECT 'it''s web.pypi', $$web.pypi$$ FROM `web`.`pypi_v2_202401_0badcafe` AS p",
    );
  });

  it('accepts ARRAY JOIN, an alias and a subquery over another table', () => {
    expect(
      repoint('SELECT p.project, tag FROM web.pypi AS p ARRAY JOIN tags AS tag WHERE x IN (SELECT x FROM web.other)'),
    ).toContain('FROM `web`.`pypi_v2_202401_0badcafe` AS p ARRAY JOIN');
  });

  it.each([
    ['a join', 'SELECT a.x FROM web.pypi AS a INNER JOIN web.other AS b ON a.x = b.x', /joins web\.pypi/],
    ['a LEFT JOIN', 'SELECT x FROM web.pypi LEFT JOIN web.other USING (x)', /joins web\.pypi/],
    ['a comma join', 'SELECT x FROM web.pypi AS a, web.other AS b', /comma join/],
    ['two references', 'SELECT x FROM web.pypi WHERE x IN (SELECT x FROM web.pypi)', /reads web\.pypi 2 times/],
    ['a column qualified by the table', 'SELECT pypi.x FROM web.pypi', /names pypi besides FROM web\.pypi/],
    ['a column qualified by database and table', 'SELECT web.pypi.x FROM web.pypi', /2 times|names pypi/],
    ['no qualified reference', 'SELECT x FROM pypi', /does not read web\.pypi by its qualified name/],
    ['a reference outside FROM', 'SELECT x FROM numbers(1) WHERE 1 IN web.pypi', /other than as FROM web\.pypi/],
    ['an unterminated quote', "SELECT 'x FROM web.pypi", /unterminated quote/],
  ])('refuses %s, saying why', (_, select, why) => {
    expect(() => repoint(select)).toThrow(why);
  });

  it('keeps any text of a stored SELECT as it was, hostile strings in literals and quoted names included', () => {
    const changed = hostileStrings().flatMap((h) => {
      const literal = `'${h.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
      const name = `\`${h.replace(/\\/g, '\\\\').replace(/`/g, '\\`')}\``;
      const select = `SELECT ${literal} AS a, ${name} AS b FROM web.pypi WHERE ${name} != ${literal}`;
      const expected = select.replace('FROM web.pypi', 'FROM `web`.`pypi_v2_202401_0badcafe`');
      return repoint(select) === expected ? [] : [h];
    });
    expect(changed).toEqual([]);
  });

  it('refuses a duplicate whose name is not plain: names reach the text only through the allow-list', () => {
    const accepted = hostileStrings().flatMap((h) =>
      [
        notRefused(() => repointViewSelect('SELECT 1 FROM web.pypi', main, { database: 'web', name: h }), /^refusing/),
        notRefused(() => repointViewSelect('SELECT 1 FROM web.pypi', main, { database: h, name: 'x' }), /^refusing/),
      ].filter((outcome) => outcome !== undefined),
    );
    expect(accepted).toEqual([]);
  });
});

describe('the statements of an import batch', () => {
  it('fill the duplicate with the batch: rows of the partition between its bounds and before the checkpoint', () => {
    const s = insertImportBatch(history, dup, 'timestamp', build, '202401');
    expect(s.query).toBe(
      [
        'INSERT INTO {into_db:Identifier}.{into:Identifier} (`timestamp`, `project`)',
        'SELECT `timestamp`, `project` FROM {source_db:Identifier}.{source:Identifier}',
        'WHERE (`timestamp` < fromUnixTimestamp64Micro({checkpoint:Int64})) AND ' +
          '(`timestamp` >= fromUnixTimestamp64Micro({batch_from:Int64})) AND ' +
          '(`timestamp` < fromUnixTimestamp64Micro({batch_to:Int64})) AND ' +
          '(partitionId(toYYYYMM(`timestamp`)) = {partition_id:String})',
      ].join('\n'),
    );
    expect(s.params).toMatchObject({ checkpoint: build.checkpoint, partition_id: '202401' });
  });

  it('of an unpartitioned main table have no partition condition', () => {
    const s = selectImportBatchRows(history, 'timestamp', { ...build, partitionKey: '' }, 'all');
    expect(s.query).not.toContain('partitionId');
    expect(s.params).not.toHaveProperty('partition_id');
    expect(selectImportBatches(history, 'timestamp', '', build.checkpoint).params).toMatchObject({ all: 'all' });
  });

  it('create a view copy from the re-pointed SELECT, names through the allow-list', () => {
    const copy = { database: 'web', name: 'pypi_downloads_mv_v2_202401_0badcafe' };
    const into = { database: 'web', name: 'pypi_downloads_v2_202401_0badcafe' };
    expect(createViewCopy(copy, into, 'SELECT 1').query).toBe(
      'CREATE MATERIALIZED VIEW `web`.`pypi_downloads_mv_v2_202401_0badcafe` TO `web`.`pypi_downloads_v2_202401_0badcafe`\nAS SELECT 1',
    );
  });

  it("compare a target's totals with its views' SELECTs added up, under other aliases", () => {
    const s = selectViewsTotals(['SELECT a', 'SELECT b'], summing);
    expect(s.query).toBe(
      [
        'SELECT toString(sum(part_rows)) AS rows, toString(sum(part_0)) AS total_0 FROM (',
        'SELECT count() AS part_rows, sum(`count`) AS part_0 FROM (\nSELECT a\n)',
        'UNION ALL',
        'SELECT count() AS part_rows, sum(`count`) AS part_0 FROM (\nSELECT b\n)',
        ')',
      ].join('\n'),
    );
  });

  it.each(Object.entries(parameterised()))('%s: has a parameter for each placeholder, and no other', (_, s) => {
    expect(new Set(placeholders(s.query))).toEqual(new Set(Object.keys(s.params)));
  });

  it.each(Object.entries(parameterised()))('%s: carries no string literal', (_, s) => {
    expect(s.query).not.toMatch(/['"]/);
  });
});

describe('hostile strings never reach the SQL text of an import', () => {
  const hostile = hostileStrings();
  const refusal = /^refusing to quote identifier/;

  it('as database or table names: they travel only as parameters', () => {
    const leaks = hostile.flatMap((h) => {
      const t = { database: h, name: h };
      return Object.entries(parameterised({ main: t, history: t, dup: t }))
        .filter(([, s]) => s.query.includes('Zq9') || !Object.values(s.params).includes(h))
        .map(([name]) => `${name} with ${JSON.stringify(h)}`);
    });
    expect(leaks).toEqual([]);
  });

  it('as a partition ID: only as a parameter', () => {
    const leaks = hostile.flatMap((h) =>
      Object.entries(parameterised(undefined, h))
        .filter(([, s]) => s.query.includes('Zq9'))
        .map(([name]) => `${name} with ${JSON.stringify(h)}`),
    );
    expect(leaks).toEqual([]);
  });

  it('as view or table names where the grammar takes no parameter, as columns or the time column: refused', () => {
    const accepted = hostile.flatMap((h) => {
      const bad = { database: 'web', name: h };
      const target = { ...summing, totals: [{ column: h, read: 'sum' as const }] };
      return [
        notRefused(() => createViewCopy(bad, dup, 'SELECT 1'), refusal),
        notRefused(() => createViewCopy(dup, bad, 'SELECT 1'), refusal),
        notRefused(() => insertImportBatch(history, dup, 'timestamp', { ...build, columns: [h] }, '202401'), refusal),
        notRefused(() => insertImportBatch(history, dup, h, build, '202401'), refusal),
        notRefused(() => selectTimeRange(main, h), refusal),
        notRefused(() => selectTargetTotals(dup, target), refusal),
        notRefused(() => selectViewsTotals(['SELECT 1'], target), refusal),
      ].filter((outcome) => outcome !== undefined);
    });
    expect(accepted).toEqual([]);
  });

  it('as a partition key: it must parse, and is re-rendered from the tree, never pasted', () => {
    const accepted = hostile.flatMap((h) =>
      [notRefused(() => selectImportBatches(history, 'timestamp', h, 1), /^cannot parse/)].filter(
        (outcome) => outcome !== undefined && outcome.includes(h),
      ),
    );
    expect(accepted).toEqual([]);
  });
});

describe('the partition key of the main table', () => {
  it('is parsed into one expression per key column, none for an unpartitioned table', () => {
    expect(parsePartitionKey('')).toEqual([]);
    expect(parsePartitionKey('toYYYYMM(timestamp)')).toHaveLength(1);
    expect(parsePartitionKey('toYYYYMM(timestamp), project')).toHaveLength(2);
  });

  it('outside the grammar is refused', () => {
    expect(() => parsePartitionKey('toStartOfInterval(ts, toIntervalDay(1)), x.y')).toThrow(ExpressionSyntaxError);
  });
});

describe('what validation compares for a view target', () => {
  const t = { database: 'web', name: 'target' };
  const col = (name: string, type: string, key = false) => ({ name, type, is_in_sorting_key: key ? 1 : 0 });

  it('SummingMergeTree: the sum of each numeric column outside the key that every view writes', () => {
    const columns = [
      col('project', 'String', true),
      col('day', 'UInt32', true),
      col('n', 'Int64'),
      col('x', 'Float64'),
    ];
    const checks = targetChecks(
      t,
      'SummingMergeTree',
      'SummingMergeTree ORDER BY project',
      columns,
      [
        ['project', 'day', 'n', 'x'],
        ['project', 'day', 'n'],
      ],
      false,
    );
    expect(checks).toEqual({
      table: t,
      engine: 'SummingMergeTree',
      rows: false,
      totals: [{ column: 'n', read: 'sum' }],
    });
    const listed = targetChecks(t, 'SummingMergeTree', 'SummingMergeTree(n) ORDER BY project', columns, [['n']], false);
    expect(listed.totals).toEqual([]);
    expect(listed.note).toMatch(/columns it lists/);
  });

  it('AggregatingMergeTree: count and sum states through -Merge, SimpleAggregateFunction(sum) through sum', () => {
    const columns = [
      col('k', 'String', true),
      col('n', 'AggregateFunction(count)'),
      col('s', 'AggregateFunction(sum, UInt64)'),
      col('u', 'AggregateFunction(uniq, String)'),
      col('m', 'SimpleAggregateFunction(sum, Int64)'),
      col('x', 'SimpleAggregateFunction(max, Int64)'),
    ];
    const checks = targetChecks(t, 'AggregatingMergeTree', '', columns, [['k', 'n', 's', 'u', 'm', 'x']], false);
    expect(checks.totals).toEqual([
      { column: 'n', read: 'countMerge' },
      { column: 's', read: 'sumMerge' },
      { column: 'm', read: 'sum' },
    ]);
  });

  it('MergeTree: rows and numeric sums when every view is row-wise; nothing when one aggregates', () => {
    const columns = [col('ts', 'DateTime', true), col('n', 'UInt8'), col('d', 'Decimal(10, 2)'), col('s', 'String')];
    expect(targetChecks(t, 'MergeTree', '', columns, [['ts', 'n', 'd', 's']], true)).toEqual({
      table: t,
      engine: 'MergeTree',
      rows: true,
      totals: [
        { column: 'n', read: 'sum' },
        { column: 'd', read: 'sum' },
      ],
    });
    expect(targetChecks(t, 'MergeTree', '', columns, [['n']], false)).toMatchObject({ rows: false, totals: [] });
    expect(targetChecks(t, 'ReplacingMergeTree', '', columns, [['n']], true).note).toMatch(/ReplacingMergeTree/);
  });

  it("reads a plan's step types: filters and projections are row-wise, aggregation is not", () => {
    const plan = (type: string, ...children: object[]) => ({ 'Node Type': type, Plans: children });
    const explain = (root: object) => JSON.stringify([{ Plan: root }]);
    expect(isRowWisePlan(explain(plan('Expression', plan('Filter', plan('ReadFromMergeTree')))))).toBe(true);
    expect(isRowWisePlan(explain(plan('CreatingSets', plan('Filter'), plan('CreatingSet', plan('Aggregating')))))).toBe(
      true,
    );
    expect(isRowWisePlan(explain(plan('Expression', plan('Aggregating', plan('ReadFromMergeTree')))))).toBe(false);
    expect(isRowWisePlan(explain(plan('Limit', plan('ReadFromMergeTree'))))).toBe(false);
  });
});

describe('the import job and its checkpoint', () => {
  const job = {
    kind: 'import',
    target: { table: 'web.pypi', timeColumn: 'timestamp' },
    source: { table: 'pypi_history' },
  };

  it('gets its defaults: checkpoint auto, one batch at a time, view totals compared', () => {
    expect(importJobSchema.parse(job)).toMatchObject({
      checkpoint: 'auto',
      parallelism: 1,
      validation: { relativeTolerance: 1e-9, viewTotals: true },
      safety: { whenPartitionBusy: 'wait' },
    });
  });

  it('refuses a bad table name or checkpoint, naming the field', () => {
    const message = (raw: object) => {
      const parsed = importJobSchema.safeParse(raw);
      return parsed.success ? undefined : describeIssues(parsed.error, 'job');
    };
    expect(message({ ...job, source: { table: 'pypi; DROP TABLE x' } })).toMatch(
      /^job\.source\.table: "pypi; DROP TABLE x" is not a plain/,
    );
    expect(message({ ...job, checkpoint: 'yesterday' })).toMatch(
      /^job\.checkpoint: yesterday is not auto or a UTC time/,
    );
    expect(message({ ...job, views: [] })).toMatch(/^job: Unrecognized key: "views"/);
  });

  it('is shown in UTC, to the microsecond when it is not a whole second', () => {
    expect(formatCheckpoint(1_734_426_000_000_000)).toBe('2024-12-17T09:00:00Z');
    expect(formatCheckpoint(1_734_426_000_000_042)).toBe('2024-12-17T09:00:00.000042Z');
  });
});
