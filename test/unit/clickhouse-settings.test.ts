import type { ClickHouseClient } from '@clickhouse/client';
import { wrapClient } from '../../src/clickhouse/clickhouse';

/**
 * A stand-in for the embedded engine's client whose first `system.settings` read fails, as a server restarting under a
 * freshly started worker would: the wrapper must ask again on the next query rather than keep the failure.
 */
function flakyClient() {
  let settingsReads = 0;
  const sent: Record<string, unknown>[] = [];
  const client = {
    query: async ({ query, clickhouse_settings }: { query: string; clickhouse_settings?: Record<string, unknown> }) => {
      if (query.includes('system.settings')) {
        settingsReads++;
        if (settingsReads === 1) throw new Error('connect ECONNREFUSED 127.0.0.1:8123');
        return { json: async () => [{ name: 'max_threads', default: 'auto(2)' }] };
      }
      sent.push(clickhouse_settings ?? {});
      return { json: async () => [{ one: 1 }] };
    },
  };
  return { client: client as unknown as ClickHouseClient, sent, reads: () => settingsReads };
}

describe('the ClickHouse wrapper', () => {
  it('retries reading the server defaults after a failed first read instead of failing every later query', async () => {
    const { client, sent, reads } = flakyClient();
    const ch = wrapClient(client, true);
    const statement = { query: 'SELECT 1 AS one', params: {} };
    await expect(ch.rows(statement)).rejects.toThrow('ECONNREFUSED');
    await expect(ch.rows(statement)).resolves.toEqual([{ one: 1 }]);
    await expect(ch.rows(statement)).resolves.toEqual([{ one: 1 }]);
    expect(reads()).toBe(2);
    expect(sent[0]).toMatchObject({ max_threads: 'auto(2)' });
  });
});
