import { randomUUID } from 'node:crypto';
import type { ClickHouse } from '../../src/clickhouse/clickhouse';
import { execWithPeakMemory } from '../../src/clickhouse/query-memory';
import { openTestClickHouse } from '../helpers/chdb-env';
import { statementOf } from '../helpers/statement-of';

const MiB = 2 ** 20;

/** A GROUP BY over 30 M numbers holding `keys` keys in its hash table: long enough to be sampled. */
const groupBy = (keys: number) => ({
  query: 'SELECT count() FROM (SELECT number % {keys:UInt64} AS k, count() FROM numbers(30000000) GROUP BY k)',
  params: { keys },
});

describe('the peak memory of one query on the embedded engine', () => {
  let ch: ClickHouse;
  let probe: ClickHouse;

  beforeAll(async () => {
    ch = openTestClickHouse();
    // A second connection on the same data directory: it runs while `ch` is busy with the measured query.
    probe = openTestClickHouse();
    await probe.rows({ query: 'SELECT 1', params: {} });
  });
  afterAll(async () => {
    await probe.close();
    await ch.close();
  });

  const measure = (keys: number) =>
    execWithPeakMemory(ch, probe, groupBy(keys), { queryId: `memory-${randomUUID()}`, settings: { max_threads: 1 } });

  it('is sampled from system.processes and grows with the hash table', async () => {
    const small = await measure(1000);
    const large = await measure(2_000_000);
    expect(small).toMatchObject({ source: 'sampled' });
    expect(large).toMatchObject({ source: 'sampled' });
    expect(large!.samples).toBeGreaterThan(1);
    // 2 M UInt64 keys with their counts need tens of MiB; 1,000 keys need next to nothing.
    expect(large!.bytes).toBeGreaterThan(32 * MiB);
    expect(small!.bytes).toBeLessThan(8 * MiB);
  });

  it('leaves no log_comment behind for the next query of the connection', async () => {
    await measure(1000);
    const [row] = await ch.rows(
      statementOf<{ comment: string }>({
        query: "SELECT getSetting('log_comment') AS comment",
        params: {},
      }),
    );
    expect(row.comment).toBe('');
  });
});
