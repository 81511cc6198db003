import type { ClickHouse } from '../../src/clickhouse/clickhouse';
import { openTestClickHouse } from '../helpers/chdb-env';
import { statementOf } from '../helpers/statement-of';

/** The settings a query runs with, as the engine sees them. */
const current = {
  query: "SELECT getSetting('max_threads') AS threads, getSetting('log_comment') AS comment",
  params: {},
};

describe('settings on the embedded engine, which keeps them in its session', () => {
  let ch: ClickHouse;
  let defaults: { threads: unknown; comment: unknown };

  beforeAll(async () => {
    ch = openTestClickHouse();
    [defaults] = await ch.rows(statementOf<{ threads: unknown; comment: unknown }>(current));
  });
  afterAll(() => ch.close());

  it('gives a query its own settings and the next query the defaults again', async () => {
    const [own] = await ch.rows(current, { settings: { max_threads: 1, log_comment: 'mine' } });
    const [next] = await ch.rows(current);
    expect(own).toEqual({ threads: 1, comment: 'mine' });
    expect(next).toEqual(defaults);
  });

  it('gives the defaults back after a failed query that had set its own', async () => {
    await expect(
      ch.rows({ query: 'SELECT no_such_column FROM system.one', params: {} }, { settings: { max_threads: 1 } }),
    ).rejects.toThrow('no_such_column');
    const [next] = await ch.rows(current);
    expect(next).toEqual(defaults);
  });

  it('keeps each of many concurrent queries on its own settings', async () => {
    const answers = await Promise.all(
      [1, 2, 1, 2, 1, 2].map(async (threads, i) => {
        const [row] = await ch.rows(current, { settings: { max_threads: threads, log_comment: `q${i}` } });
        return row;
      }),
    );
    expect(answers).toEqual([1, 2, 1, 2, 1, 2].map((threads, i) => ({ threads, comment: `q${i}` })));
  });
});
