import { viewJobSchema, type ViewJobInput } from '../../src/shared/job-spec';
import {
  comparisonFor,
  createViewQueryTarget,
  selectViewQueryTableTotals,
  selectViewQueryTotals,
  viewQuery,
} from '../../src/sql/view/view-sql';

/** A row-wise view of orders into a CollapsingMergeTree(sign) target, given as SQL. */
const ordersJob: ViewJobInput = {
  kind: 'view',
  source: { table: 'raw.orders', timeColumn: 'ts' },
  target: {
    table: 'agg.orders_state',
    engine: 'CollapsingMergeTree(sign)',
    partitionBy: 'month',
    orderBy: ['day', 'id'],
  },
  view: { name: 'orders_state_mv' },
  select: 'SELECT toDate(ts) AS day, id, amount, sign FROM raw.orders',
};
const vq = viewQuery(viewJobSchema.parse(ordersJob))!;

describe('a view given as SQL into a CollapsingMergeTree(sign) target', () => {
  it('creates the target with the sign column allow-list quoted', () => {
    expect(vq).toMatchObject({ engine: 'CollapsingMergeTree', sign: 'sign' });
    expect(createViewQueryTarget(vq, { database: 'agg', name: 'orders_state' }).query).toContain(
      'ENGINE = CollapsingMergeTree(`sign`)\nPARTITION BY toYYYYMM(`day`)\nORDER BY (`day`, `id`)',
    );
  });

  it('validates sign-weighted totals: sum(sign) for rows, sum(c * sign) for each compared column, on both sides', () => {
    expect(comparisonFor(vq.engine)).toBe('signed sums');
    const source = selectViewQueryTotals(vq, { keys: true, sums: ['amount'], merged: [] }, '202402', 1_734_426_000);
    expect(source.query).toBe(
      'SELECT toString(sum(`sign`)) AS rows, toString(uniqExact(`day`, `id`)) AS keys, ' +
        'toString(sum(`amount` * `sign`)) AS sum_0 FROM (SELECT toDate(ts) AS day, id, amount, sign FROM raw.orders ' +
        'WHERE `ts` < toDateTime({cutoff:UInt32})\n) WHERE toYYYYMM(`day`) = {partition_key:UInt32}',
    );
    expect(source.params).toEqual({ cutoff: 1_734_426_000, partition_key: 202402 });
    const shadow = selectViewQueryTableTotals(
      vq,
      { keys: true, sums: ['amount'], merged: [] },
      { database: 'agg', name: 's' },
      '202402',
      false,
    );
    expect(shadow.query).toBe(
      'SELECT toString(sum(`sign`)) AS rows, toString(uniqExact(`day`, `id`)) AS keys, ' +
        'toString(sum(`amount` * `sign`)) AS sum_0 FROM {table_db:Identifier}.{table:Identifier} ' +
        'WHERE _partition_id = {partition_id:String}',
    );
  });

  it('is refused with groupBy + aggregates, and with a sign that is not a plain name', () => {
    const structured = {
      ...ordersJob,
      select: undefined,
      groupBy: { day: 'toDate(ts)' },
      aggregates: { n: 'count()' },
    };
    expect(viewJobSchema.safeParse(structured).success).toBe(false);
    const bad = { ...ordersJob, target: { ...ordersJob.target, engine: 'CollapsingMergeTree(sign`)' } };
    const parsed = viewJobSchema.safeParse(bad);
    expect(parsed.success).toBe(false);
    expect(JSON.stringify(parsed.error?.issues)).toContain('CollapsingMergeTree(<sign column>)');
  });
});
