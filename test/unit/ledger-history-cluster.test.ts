import { MockActivityEnvironment } from '@temporalio/testing';
import type { ClickHouse, RunOptions } from '../../src/clickhouse/clickhouse';
import type { Statement } from '../../src/clickhouse/statement';
import { ledgerActivities } from '../../src/activities/engine/ledger';
import { ledgerHistoryInputSchema } from '../../src/shared/plan-input';
import type { ServerProfile } from '../../src/shared/server-profile';
import { dialectOf } from '../../src/sql/engine/server-dialect';
import { cannedClickHouse } from '../helpers/canned-clickhouse';
import { recordedProfile } from '../helpers/recorded-profile';

/**
 * `ch-backfill history` (and `report`, which reads the ledger the same way) on each recorded topology: the ledger is
 * read as the plan reads it, synced on every replica of a replicated cluster first. Statement-level: the server's
 * answers are those of the recorded profiles; no server runs here.
 */

/** A server answering detection as `p` describes it (listed `local` in `localClusters`), recording what it is sent. */
function serverOf(p: ServerProfile, localClusters: string[] = p.cluster ? [p.cluster.name] : []) {
  let probe = 0;
  const { ch: canned } = cannedClickHouse([
    { match: 'currentDatabase()', rows: [{ database: 'default' }] },
    { match: 'version()', rows: [{ version: p.version }] },
    { match: 'hostName()', rows: () => [{ host: p.hosts[probe++ % p.hosts.length] }] },
    { match: 'system.settings', rows: p.topology === 'cloud' ? [{ value: '1' }] : [] },
    { match: 'system.databases', rows: Object.entries(p.databaseEngines).map(([name, engine]) => ({ name, engine })) },
    {
      match: 'engine_full FROM system.tables',
      rows: Object.entries(p.tableEngines).map(([qualified, engine]) => {
        const [database, name] = qualified.split('.');
        return { database, name, engine, engine_full: p.cluster?.engines[qualified] ?? engine };
      }),
    },
    { match: 'AS present FROM system.tables', rows: [{ present: 1 }] },
    {
      match: 'system.clusters',
      rows: p.clusters.map((c) => ({
        name: c.name,
        shards: String(c.shards),
        replicas: String(c.replicas),
        local: localClusters.includes(c.name) ? '1' : '0',
      })),
    },
    { match: 'system.parts', rows: [] },
    // DDL-queue statements answer a status per host: every host done.
    { match: 'SYSTEM SYNC REPLICA', rows: p.hosts.map((host) => ({ host, status: 0, error: '' })) },
    { match: 'FINAL', rows: [] },
  ]);
  const sent: { query: string; settings?: Record<string, unknown> }[] = [];
  const ch: ClickHouse = {
    ...canned,
    rows: <T>(statement: Statement<T>, options?: RunOptions) => {
      sent.push({ query: statement.query, settings: options?.settings });
      return canned.rows(statement, options);
    },
    exec: (statement: Statement, options?: RunOptions) => {
      sent.push({ query: statement.query, settings: options?.settings });
      return canned.exec(statement, options);
    },
  };
  return { ch, sent };
}

const env = () =>
  new MockActivityEnvironment({
    workflowExecution: { workflowId: 'wf', runId: 'run' },
    activityId: '1',
    attempt: 1,
  } as never);
const quiet = { info: () => undefined, warn: () => undefined };

async function history(ch: ClickHouse, raw: Record<string, unknown> = {}) {
  const input = ledgerHistoryInputSchema.parse({ target: 'default.events_daily', ledger: 'backfill_ledger', ...raw });
  return env().run(ledgerActivities({ clickhouse: ch, log: quiet }).readLedgerHistory, input);
}

const readOf = (sent: { query: string }[]) => sent.findIndex((s) => /FINAL/.test(s.query));

describe('history reads the ledger as the plan does', () => {
  test.each([
    ['replicated-cluster', 'SYSTEM SYNC REPLICA ON CLUSTER `main` `default`.`backfill_ledger` LIGHTWEIGHT'],
    ['replicated-database-cluster', 'SYSTEM SYNC REPLICA ON CLUSTER `default` `default`.`backfill_ledger` LIGHTWEIGHT'],
  ])(
    'on %s the ledger is synced on every replica, through the DDL queue, just before it is read',
    async (name, sync) => {
      const profile = recordedProfile(name);
      const { ch, sent } = serverOf(profile);
      expect(await history(ch)).toEqual({
        target: { database: 'default', name: 'events_daily' },
        ledger: { database: 'default', name: 'backfill_ledger' },
        entries: [],
      });
      const read = readOf(sent);
      expect(read).toBeGreaterThan(0);
      expect(sent[read - 1]).toEqual({ query: sync, settings: dialectOf(profile).ddlSettings });
      expect(sent.filter((s) => /SYNC REPLICA/.test(s.query))).toHaveLength(1);
    },
  );

  test('on Cloud the read carries select_sequential_consistency; no sync', async () => {
    const { ch, sent } = serverOf(recordedProfile('cloud-26.7'));
    await history(ch);
    expect(sent[readOf(sent)].query).toMatch(/ SETTINGS select_sequential_consistency = 1$/);
    expect(sent.some((s) => /SYNC REPLICA/.test(s.query))).toBe(false);
  });

  test('on one server the read is as before: no sync, no setting', async () => {
    const { ch, sent } = serverOf(recordedProfile('single-server-26.7'));
    await history(ch);
    expect(sent[readOf(sent)].query).not.toMatch(/SETTINGS/);
    expect(sent.some((s) => /SYNC REPLICA|ON CLUSTER/.test(s.query))).toBe(false);
  });

  test('a cluster that is unclear is refused asking for --cluster, reading nothing; --cluster names it', async () => {
    // The server is listed in both of its clusters: which one the Atomic database's DDL goes to is unclear.
    const profile = recordedProfile('replicated-cluster');
    const unclear = serverOf(profile, ['main', 'test_shard_localhost']);
    await expect(history(unclear.ch)).rejects.toThrow(
      /^cluster: the server is a replicated cluster and it is unclear which cluster database default lives on: name it with --cluster <name> \(one of main, test_shard_localhost\)/,
    );
    expect(readOf(unclear.sent)).toBe(-1);
    const named = serverOf(profile, ['main', 'test_shard_localhost']);
    await history(named.ch, { cluster: 'main' });
    expect(named.sent[readOf(named.sent) - 1].query).toBe(
      'SYSTEM SYNC REPLICA ON CLUSTER `main` `default`.`backfill_ledger` LIGHTWEIGHT',
    );
  });
});
