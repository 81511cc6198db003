import type { ClickHouse } from '../../src/clickhouse/clickhouse';
import type { Statement } from '../../src/clickhouse/statement';
import { viewQueryChecks, type ViewQueryCheckTarget } from '../../src/activities/view/view-query-checks';
import type { TableColumn } from '../../src/sql/engine/introspection';
import type { ViewQueryTotalsReads } from '../../src/sql/view/view-sql';

/**
 * A ClickHouse answering the target's columns from `system.columns` and each totals read with its side's row: what
 * `viewQueryChecks` reads, so the checks it builds can be seen without a server.
 */
function answering(
  columns: TableColumn[],
  source: Record<string, string>,
  shadow: Record<string, string>,
  engineFull = 'SummingMergeTree ORDER BY day',
) {
  const ch = {
    rows: (st: Statement) => {
      if (st.query.includes('system.columns')) return Promise.resolve(columns);
      if (st.query.includes('system.tables')) return Promise.resolve([{ engine_full: engineFull }]);
      return Promise.resolve([st.query === 'source' ? source : shadow]);
    },
  } as unknown as ClickHouse;
  return ch;
}

const tables = { target: { database: 'agg', name: 't' }, shadow: { database: 'agg', name: 't_v2' } };

/** Runs the checks, returning what they read and the checks by name. */
async function run(
  target: Omit<ViewQueryCheckTarget, 'target' | 'shadow' | 'relativeTolerance'>,
  columns: TableColumn[],
  source: Record<string, string>,
  shadow: Record<string, string> = source,
  engineFull?: string,
) {
  let reads: ViewQueryTotalsReads | undefined;
  const outcome = await viewQueryChecks(
    answering(columns, source, shadow, engineFull),
    { ...target, ...tables, relativeTolerance: 1e-9 },
    (r) => {
      reads = r;
      return { source: { query: 'source', params: {} }, shadow: { query: 'shadow', params: {} } };
    },
  );
  return { reads: reads!, ...outcome, byName: Object.fromEntries(outcome.checks.map((c) => [c.name, c])) };
}

const AGGREGATING: TableColumn[] = [
  { name: 'hour', type: 'DateTime' },
  { name: 'project', type: 'String' },
  { name: 'count', type: 'AggregateFunction(count)' },
  { name: 'buys', type: 'AggregateFunction(sumIf, UInt64, UInt8)' },
  { name: 'users', type: 'AggregateFunction(uniq, String)' },
  { name: 'bytes', type: 'SimpleAggregateFunction(sum, UInt64)' },
];

describe('validation of a shadow against its view query', () => {
  it('merges the exact states of an Aggregating target, sums its simple sums, and leaves approximate states out', async () => {
    const totals = { rows: '7', keys: '7', sum_0: '900', merged_0: '40', merged_1: '12' };
    const { reads, checks, shadowRows } = await run(
      { engine: 'AggregatingMergeTree', orderBy: ['hour', 'project'], rowCounts: ['count'] },
      AGGREGATING,
      totals,
    );
    expect(reads).toEqual({
      keys: true,
      sums: ['bytes'],
      merged: [
        { column: 'count', fn: 'count' },
        { column: 'buys', fn: 'sumIf' },
      ],
    });
    expect(checks.map((c) => c.name)).toEqual([
      'keys = distinct keys of the view query',
      'total bytes',
      'count = source rows',
      'sumIfMerge(buys)',
    ]);
    expect(checks.every((c) => c.ok)).toBe(true);
    expect(shadowRows).toBe(7);
  });

  it('fails the check of a merged state total that differs, and counts source rows exactly', async () => {
    const source = { rows: '7', keys: '7', sum_0: '900', merged_0: '40', merged_1: '12' };
    const { byName } = await run(
      { engine: 'AggregatingMergeTree', orderBy: ['hour', 'project'], rowCounts: ['count'] },
      AGGREGATING,
      source,
      { ...source, merged_0: '41', merged_1: '11' },
    );
    expect(byName['count = source rows']).toMatchObject({ expected: '40', actual: '41', ok: false });
    expect(byName['sumIfMerge(buys)']).toMatchObject({ ok: false });
    expect(byName['total bytes'].ok).toBe(true);
  });

  it('in fast mode lets a row-count column stand in for the distinct keys, and only then', async () => {
    const summing: TableColumn[] = [
      { name: 'day', type: 'Date' },
      { name: 'n', type: 'UInt64' },
      { name: 'bytes', type: 'Nullable(Float64)' },
    ];
    const totals = { rows: '3', sum_0: '30', sum_1: '1.5' };
    const fast = await run(
      { engine: 'SummingMergeTree', orderBy: ['day'], rowCounts: ['n'], mode: 'fast' },
      summing,
      totals,
    );
    expect(fast.reads).toEqual({ keys: false, sums: ['n', 'bytes'], merged: [] });
    expect(fast.checks.map((c) => c.name)).toEqual(['n = source rows', 'total bytes']);
    const withoutCount = await run({ engine: 'SummingMergeTree', orderBy: ['day'], mode: 'fast' }, summing, {
      ...totals,
      keys: '3',
    });
    expect(withoutCount.reads.keys).toBe(true);
    expect(withoutCount.checks[0].name).toBe('keys = distinct keys of the view query');
  });

  it("sums only the columns a SummingMergeTree names, the others keeping any row's value", async () => {
    const columns: TableColumn[] = [
      { name: 'day', type: 'Date' },
      { name: 'n', type: 'UInt64' },
      { name: 'last_size', type: 'UInt64' },
    ];
    const engine =
      "ReplicatedSummingMergeTree('/t/{uuid}', '{replica}', (`n`)) PARTITION BY toYYYYMM(day) ORDER BY day";
    const { reads } = await run(
      { engine: 'SummingMergeTree', orderBy: ['day'] },
      columns,
      { keys: '2' },
      undefined,
      engine,
    );
    expect(reads.sums).toEqual(['n']);
    const every = await run({ engine: 'SummingMergeTree', orderBy: ['day'] }, columns, { keys: '2' });
    expect(every.reads.sums).toEqual(['n', 'last_size']);
  });

  it('compares a Replacing target after FINAL by keys alone: no sums, no merges, no part rows', async () => {
    const { reads, checks, shadowRows } = await run(
      { engine: 'ReplacingMergeTree', orderBy: ['id'] },
      [
        { name: 'id', type: 'UInt64' },
        { name: 'amount', type: 'UInt64' },
        { name: 'n', type: 'AggregateFunction(count)' },
      ],
      { rows: '5', keys: '5' },
    );
    expect(reads).toEqual({ keys: true, sums: [], merged: [] });
    expect(checks.map((c) => c.name)).toEqual(['rows after FINAL = distinct keys of the view query']);
    expect(shadowRows).toBeUndefined();
  });
});
