import type { ViewRestateBuild } from '../../src/shared/partition-task';
import { viewRestateJobSchema } from '../../src/shared/job-spec';
import { viewRestateStatements, type RestatingTask } from '../../src/activities/view-restate/restate-steps';
import { selectRestateRowsOutside, selectRestateView } from '../../src/sql/view-restate/restate';

const select =
  "SELECT toDate(timestamp) AS day, project, count() AS downloads FROM db.pypi WHERE type = 'x' GROUP BY day, project";

function task(overrides: Partial<ViewRestateBuild> = {}): RestatingTask {
  return {
    job: viewRestateJobSchema.parse({
      kind: 'view-restate',
      view: 'db.daily_mv',
      writesEndBefore: '2024-04-01T00:00:00Z',
    }),
    source: { database: 'db', name: 'pypi' },
    target: { database: 'db', name: 'daily' },
    shadow: { database: 'db', name: 'daily_v2_202402_w1' },
    partition: {
      id: '202402',
      start: '2024-02-01',
      end: '2024-03-01',
      sourceRows: 1,
      targetRows: 1,
      maxRowsPerKey: 0,
      salt: 1,
    },
    build: {
      kind: 'view-restate',
      select,
      columns: ['day', 'project', 'downloads'],
      partitionBy: { fn: 'toYYYYMM', column: 'day' },
      engine: 'MergeTree',
      orderBy: ['day', 'project'],
      ...overrides,
    },
    swap: 'replace',
    backup: { database: 'db', name: 'daily_backup_w1' },
    maxShrink: 0.1,
  };
}

describe('view restate statements', () => {
  it('fills the shadow with the stored query as written, filtered to the partition by a parameter', () => {
    const s = viewRestateStatements(task());
    expect(s.insert.query).toBe(
      'INSERT INTO {into_db:Identifier}.{into:Identifier} (`day`, `project`, `downloads`)\n' +
        `SELECT \`day\`, \`project\`, \`downloads\` FROM (${select}\n) WHERE toYYYYMM(\`day\`) = {partition_key:UInt32}`,
    );
    expect(s.insert.params).toMatchObject({ into_db: 'db', into: 'daily_v2_202402_w1', partition_key: 202402 });
  });

  it('backs up, then replaces the live partition from the shadow, as an aggregate partition does', () => {
    const s = viewRestateStatements(task());
    expect(s.backup.map((b) => b.query).join('\n')).toMatch(/ATTACH PARTITION ID \{partition_id:String\} FROM/);
    expect(s.replace.map((r) => r.query).join('\n')).toMatch(/REPLACE PARTITION ID \{partition_id:String\} FROM/);
    expect(s.replace.at(-1)!.params).toMatchObject({ partition_id: '202402' });
    expect(s.cleanup).toEqual(s.drop);
  });

  it('compares per target engine: sums of a MergeTree, rows after FINAL of a Replacing target', () => {
    const sums = (columns: string[]) => ({ keys: true, sums: columns, merged: [] });
    const merge = viewRestateStatements(task());
    expect(merge.sourceTotals(sums(['downloads'])).query).toContain('toString(sum(`downloads`)) AS sum_0');
    expect(merge.shadowTotals(sums(['downloads'])).query).not.toContain('FINAL');
    const replacing = viewRestateStatements(task({ engine: 'ReplacingMergeTree' }));
    expect(replacing.shadowTotals(sums([])).query).toContain(' FINAL WHERE _partition_id = {partition_id:String}');
  });

  it('refuses hostile column names instead of rendering them', () => {
    expect(() => viewRestateStatements(task({ columns: ['day`; DROP TABLE x; --'] }))).toThrow();
    expect(() => viewRestateStatements(task({ partitionBy: { fn: 'toYYYYMM', column: 'a b' } }))).toThrow();
  });

  it("counts a chain level's rows outside the partition, the partition as a parameter, the column quoted", () => {
    const s = selectRestateRowsOutside(task().build as ViewRestateBuild, '202402');
    expect(s.query).toBe(
      `SELECT toString(count()) AS rows FROM (${select}\n) WHERE toYYYYMM(\`day\`) != {partition_key:UInt32}`,
    );
    expect(s.params).toEqual({ partition_key: 202402 });
    expect(() =>
      selectRestateRowsOutside(
        { ...(task().build as ViewRestateBuild), partitionBy: { fn: 'toYYYYMM', column: 'a`b' } },
        '1',
      ),
    ).toThrow();
  });

  it('reads the view and its one source with the names as parameters', () => {
    const s = selectRestateView({ database: "d'b", name: 'v`x' });
    expect(s.query).not.toContain("d'b");
    expect(s.params).toEqual({ db: "d'b", name: 'v`x' });
  });

  it('takes a UTC time in writesEndBefore and partition ids in partitions', () => {
    const parse = (extra: object) =>
      viewRestateJobSchema.safeParse({
        kind: 'view-restate',
        view: 'v',
        writesEndBefore: '2024-04-01T00:00:00Z',
        ...extra,
      });
    expect(parse({}).success).toBe(true);
    expect(parse({ writesEndBefore: 'yesterday' }).success).toBe(false);
    expect(parse({ partitions: ['202401', '20240115'] }).success).toBe(true);
    expect(parse({ partitions: ["2024' OR 1"] }).success).toBe(false);
  });

  it('needs writesEndBefore unless ingestion is paused by the operator', () => {
    const parse = (extra: object) => viewRestateJobSchema.safeParse({ kind: 'view-restate', view: 'v', ...extra });
    const missing = parse({});
    expect(missing.success).toBe(false);
    expect(JSON.stringify(missing.error?.issues)).toContain('ingestion: paused-by-operator');
    expect(parse({ ingestion: 'paused-by-operator' }).success).toBe(true);
    expect(parse({ ingestion: 'runs', writesEndBefore: '2024-04-01T00:00:00Z' }).data?.ingestion).toBe('runs');
    expect(parse({ writesEndBefore: '2024-04-01T00:00:00Z' }).data?.ingestion).toBe('runs');
    expect(parse({ ingestion: 'paused', writesEndBefore: '2024-04-01T00:00:00Z' }).success).toBe(false);
  });
});
