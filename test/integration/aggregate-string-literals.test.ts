import { createHarness, type Harness } from '../helpers/backfill-harness';
import { freshDatabase } from '../helpers/chdb-env';
import { statementOf } from '../helpers/statement-of';
import type { JobSpecInput } from '../../src/shared/job-spec';

describe('kind: aggregate with string literals in its metrics', () => {
  let h: Harness;
  let db: string;

  beforeAll(async () => {
    h = await createHarness();
    db = await freshDatabase(h.ch, 'literals');
    await h.ch.exec({
      query: `CREATE TABLE ${db}.actions (ts DateTime, user_id UInt64, host String, kind String, x Float64)
        ENGINE = MergeTree PARTITION BY toYYYYMM(ts) ORDER BY (user_id, ts)`,
      params: {},
    });
    // Hosts include one with a quote and one with a backslash: the literal must match exactly these values.
    await h.ch.exec({
      query: `INSERT INTO ${db}.actions SELECT toDateTime('2024-01-01 00:00:00') + number * 1800, number % 7,
        ['x', 'y', 'o''neil', 'a\\\\b'][number % 4 + 1], ['buy', 'view', 'buy ', 'BUY'][number % 3 + 1], number % 10
        FROM numbers(5000)`,
      params: {},
    });
  });
  afterAll(() => h.close());

  it("countIf(kind = 'buy') and sumIf(x, host = …) fill the target with exactly the aggregation", async () => {
    const job = {
      kind: 'aggregate',
      source: { table: `${db}.actions`, timeColumn: 'ts' },
      target: { table: `${db}.actions_daily` },
      partitionBy: 'month',
      keys: ['user_id'],
      date: { column: 'date', expression: 'toDate(ts)' },
      metrics: {
        buys: "countIf(kind = 'buy')",
        x_on_x: "sumIf(x, host = 'x')",
        x_on_oneil: "sumIf(x, host = 'o''neil')",
        x_on_backslash: "sumIf(x, host = 'a\\\\b')",
        events: 'count()',
      },
      validation: { mode: 'full' },
    } as JobSpecInput;
    await h.backfill({ job, from: '2024-01-01', to: '2024-04-30' });

    type Row = { date: string; user_id: string; buys: string; on_x: string; oneil: string; bs: string; events: string };
    const rows = (query: string) => h.ch.rows(statementOf<Row>({ query, params: {} }));
    const target = await rows(
      `SELECT toString(date) AS date, toString(user_id) AS user_id, toString(buys) AS buys, toString(x_on_x) AS on_x,
         toString(x_on_oneil) AS oneil, toString(x_on_backslash) AS bs, toString(events) AS events
       FROM ${db}.actions_daily ORDER BY date, user_id`,
    );
    const expected = await rows(
      `SELECT toString(toDate(ts)) AS date, toString(user_id) AS user_id, toString(countIf(kind = 'buy')) AS buys,
         toString(sumIf(x, host = 'x')) AS on_x, toString(sumIf(x, host = 'o\\'neil')) AS oneil,
         toString(sumIf(x, host = 'a\\\\b')) AS bs, toString(count()) AS events
       FROM ${db}.actions GROUP BY toDate(ts), user_id ORDER BY date, user_id`,
    );
    expect(target).toEqual(expected);
    const sum = (key: 'buys' | 'oneil' | 'bs') => target.reduce((n, r) => n + Number(r[key]), 0);
    // 'buy ' and 'BUY' are other values: a third of the 5,000 rows is exactly 'buy'.
    expect(sum('buys')).toBe(1667);
    expect(sum('oneil')).toBeGreaterThan(0);
    expect(sum('bs')).toBeGreaterThan(0);
  });
});
