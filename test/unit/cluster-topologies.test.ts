import { aggregatePartitionStatements } from '../../src/activities/aggregate/aggregate-partition-statements';
import { plannedPartitionStatements } from '../../src/activities/aggregate/describe-backfill';
import { DdlPendingError, runDdl } from '../../src/activities/engine/cluster-ddl';
import type { AggregatePartitionTask } from '../../src/shared/partition-task';
import type { ServerProfile } from '../../src/shared/server-profile';
import { dialectOf } from '../../src/sql/engine/server-dialect';
import { replicatedEngineWithOwnPath } from '../../src/sql/engine/replicated-engine';
import { runPartition, scriptedClickHouse, type SentStatement } from '../helpers/scripted-clickhouse';
import { aggregateTask, dayTask, PARTITION } from '../helpers/topology-jobs';
import { recordedProfile } from '../helpers/recorded-profile';

/**
 * Statement-level tests of topologies 1 (one shard, N replicas, Atomic database: DDL `ON CLUSTER`) and 2 (the same
 * in a Replicated database: no `ON CLUSTER`) from recorded profiles. No server or Keeper runs here: these check what
 * the tool sends, and each failure mode of docs/clusters.md is shown to fail the check when introduced.
 */

const CLUSTERS = [
  ['replicated-cluster (Atomic, ON CLUSTER main)', recordedProfile('replicated-cluster')],
  ['replicated-database-cluster (Replicated database)', recordedProfile('replicated-database-cluster')],
] as const;

async function sentBy(task: AggregatePartitionTask, replicaRows: Record<string, number> = {}) {
  const { ch, sent } = scriptedClickHouse(false, PARTITION.id, 10, {}, replicaRows);
  await runPartition(ch, task);
  return sent;
}

const tableOfParams = (s: SentStatement, key: string) => `${String(s.params[`${key}_db`])}.${String(s.params[key])}`;
const isDdl = (q: string) => /^(CREATE|DROP) TABLE/.test(q);

/**
 * The failure modes of a cluster swap found in what was sent, as words: a CTAS; a shadow, backup or duplicate in
 * another database than the target's; `ON CLUSTER` inside a Replicated database, or DDL without it in an Atomic
 * one; a partition ALTER reading a table's parts not preceded by a sync of that table on the cluster; a DROP
 * PARTITION where a REPLACE must fan out (several shards); a swap whose rows are not then compared on every replica.
 */
function clusterViolations(sent: SentStatement[], server: ServerProfile, target: string): string[] {
  const found: string[] = [];
  const cluster = server.cluster!;
  const db = target.split('.')[0];
  sent.forEach((s, i) => {
    if (/^CREATE TABLE/.test(s.query) && /\bSELECT\b/i.test(s.query)) found.push(`${i}: CREATE … AS SELECT`);
    if (/^CREATE TABLE/.test(s.query) && !/ledger/.test(s.query) && s.params.table_db !== db)
      found.push(`${i}: created in another database`);
    const onCluster = / ON CLUSTER /.test(s.query) && !/^(SYSTEM SYNC REPLICA|KILL QUERY)/.test(s.query);
    if (cluster.databaseEngine === 'Replicated' && onCluster) found.push(`${i}: ON CLUSTER in a Replicated database`);
    if (cluster.databaseEngine === 'Atomic' && isDdl(s.query) && !onCluster) found.push(`${i}: DDL without ON CLUSTER`);
    if (/^CREATE TABLE IF NOT EXISTS \{ledger_db/.test(s.query)) {
      if (!/ENGINE = ReplicatedReplacingMergeTree/.test(s.query)) found.push(`${i}: a ledger not replicated`);
      const own = `/${String(s.params.ledger_db)}/${String(s.params.ledger)}'`;
      if (cluster.databaseEngine === 'Atomic' && !s.query.includes(own)) found.push(`${i}: a ledger path not its own`);
      if (s.via !== 'rows') found.push(`${i}: ledger DDL not read per host`);
    }
    if (cluster.databaseEngine === 'Atomic' && /^CREATE TABLE \{table_db/.test(s.query) && /ENGINE = /.test(s.query)) {
      const own = `/${String(s.params.table_db)}/${String(s.params.table)}'`;
      if (!s.query.includes(own)) found.push(`${i}: a replica path not its own`);
    }
    const reads = /(?:REPLACE|ATTACH) PARTITION ID \{partition_id:String\} FROM `(\w+)`\.`(\w+)`/.exec(s.query);
    if (reads) {
      const sync = `SYSTEM SYNC REPLICA ON CLUSTER \`${cluster.name}\` \`${reads[1]}\`.\`${reads[2]}\` LIGHTWEIGHT`;
      const lastWrite = sent
        .slice(0, i)
        .map((x, j) => (x.via === 'exec' && !/^SYSTEM/.test(x.query) ? j : -1))
        .reduce((a, b) => Math.max(a, b), -1);
      if (!sent.slice(lastWrite + 1, i).some((x) => x.query === sync)) found.push(`${i}: ALTER not preceded by sync`);
    }
    if (/DROP PARTITION/.test(s.query) && server.clusters.some((c) => c.name === cluster.name && c.shards > 1))
      found.push(`${i}: DROP PARTITION on several shards`);
    if (/REPLACE PARTITION/.test(s.query) && tableOfParams(s, 'target') === target) {
      const check = sent.slice(i + 1).findIndex((x) => /clusterAllReplicas\(.*WHERE _partition_id/.test(x.query));
      const ledger = sent.slice(i + 1).findIndex((x) => /^INSERT INTO \{ledger_db/.test(x.query));
      if (check < 0 || (ledger >= 0 && ledger < check)) found.push(`${i}: swap not checked on every replica`);
    }
  });
  return found;
}

describe.each(CLUSTERS)('%s', (_name, server) => {
  const tasks = { aggregate: aggregateTask, day: dayTask };
  describe.each(Object.keys(tasks) as (keyof typeof tasks)[])('%s partition', (kind) => {
    const task = { ...tasks[kind](), server };
    const target = `${task.target.database}.${task.target.name}`;
    let sent: SentStatement[];
    beforeAll(async () => {
      sent = await sentBy(task);
    });

    test('none of the failure modes is sent', () => {
      expect(clusterViolations(sent, server, target)).toEqual([]);
    });

    test('the fill is followed by a sync of the shadow on every replica, the swap by a check of every replica', () => {
      const shadowSync = `SYSTEM SYNC REPLICA ON CLUSTER \`${server.cluster!.name}\` \`${task.shadow.database}\`.\`${task.shadow.name}\` LIGHTWEIGHT`;
      const fill = sent.findIndex((s) => s.via === 'exec' && /^INSERT INTO \{(into|shadow|table)_db/.test(s.query));
      expect(fill).toBeGreaterThanOrEqual(0);
      expect(sent[fill + 1].query).toBe(shadowSync);
      // Through the DDL queue like ON CLUSTER DDL: a replica that is down answers "not yet", looked at again.
      expect(sent.filter((s) => /^SYSTEM SYNC REPLICA ON CLUSTER/.test(s.query)).map((s) => s.settings)).toEqual(
        sent.filter((s) => /^SYSTEM SYNC REPLICA ON CLUSTER/.test(s.query)).map(() => dialectOf(server).ddlSettings),
      );
      const swap = sent.findIndex((s) => /REPLACE PARTITION/.test(s.query));
      expect(sent[swap - 1].query).toBe(shadowSync);
      expect(sent[swap].query).toMatch(/ SETTINGS alter_sync = 3$/);
      expect(sent.slice(swap).some((s) => s.query.includes(`clusterAllReplicas('${server.cluster!.name}'`))).toBe(true);
    });

    test('DDL reports per host, a timeout meaning "look again"', () => {
      const ddl = sent.filter((s) => isDdl(s.query));
      expect(ddl.length).toBeGreaterThan(0);
      for (const s of ddl) {
        expect(s.via).toBe('rows');
        expect(s.settings).toEqual({
          distributed_ddl_output_mode: 'null_status_on_timeout',
          distributed_ddl_task_timeout: 300,
        });
      }
    });

    if (kind === 'day') {
      test('the ledger is created on every replica as a replicated table with its own Keeper path', () => {
        const ledger = sent.filter((s) => /^CREATE TABLE IF NOT EXISTS \{ledger_db/.test(s.query));
        expect(ledger).toHaveLength(1);
        const [create] = ledger;
        expect(create.params).toEqual({ ledger_db: 'default', ledger: '_backfill_ledger' });
        if (server.cluster!.databaseEngine === 'Atomic') {
          expect(create.query).toMatch(
            /^CREATE TABLE IF NOT EXISTS \{ledger_db:Identifier\}\.\{ledger:Identifier\} ON CLUSTER `main` \(/,
          );
          expect(create.query).toContain(
            "ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/default/_backfill_ledger', '{replica}') ORDER BY",
          );
        } else {
          expect(create.query).not.toContain('ON CLUSTER');
          expect(create.query).toContain(') ENGINE = ReplicatedReplacingMergeTree ORDER BY');
        }
        // The failure mode: a plain ledger on the one node that receives the swap is found.
        const plain = sent.map((s) =>
          s === create
            ? { ...s, query: s.query.replace(/ENGINE = Replicated\w+(\('[^)]*\))?/, 'ENGINE = ReplacingMergeTree') }
            : s,
        );
        expect(clusterViolations(plain, server, target).join('; ')).toMatch(/a ledger not replicated/);
      });
    }

    if (kind === 'aggregate') {
      test('the plan lists the statements the steps send, in order, with their settings', () => {
        const planned = plannedPartitionStatements(task, false).filter((p) => !/\{ledger_db/.test(p.query));
        const listed = new Set(planned.map((p) => p.query));
        const compared = sent.filter((s) => listed.has(s.query));
        expect(compared.map((s) => s.query)).toEqual(planned.map((p) => p.query));
        compared.forEach((s, i) => expect(s.settings).toEqual(planned[i].settings));
      });

      test('each failure mode, introduced into what was sent, is found', () => {
        const syncAt = sent.findIndex((_s, i) => /REPLACE PARTITION/.test(sent[i + 1]?.query ?? ''));
        const without = (i: number) => sent.filter((_, j) => j !== i);
        const createAt = sent.findIndex((s) => /^CREATE TABLE \{table_db/.test(s.query));
        const replaced = (i: number, s: Partial<SentStatement>) => sent.map((x, j) => (j === i ? { ...x, ...s } : x));
        const check = (mutated: SentStatement[], words: RegExp) =>
          expect(clusterViolations(mutated, server, target).join('; ')).toMatch(words);
        check(without(syncAt), /ALTER not preceded by sync/);
        check(
          replaced(createAt, { query: `${sent[createAt].query.replace(/ ENGINE = .*/, '')} AS SELECT 1` }),
          /AS SELECT/,
        );
        check(replaced(createAt, { params: { ...sent[createAt].params, table_db: 'elsewhere' } }), /another database/);
        if (server.cluster!.databaseEngine === 'Replicated') {
          check(
            replaced(createAt, { query: sent[createAt].query.replace(/ AS /, ' ON CLUSTER `default` AS ') }),
            /ON CLUSTER in a Replicated database/,
          );
        } else {
          check(
            replaced(createAt, { query: sent[createAt].query.replace(/ ON CLUSTER `main`/, '') }),
            /without ON CLUSTER/,
          );
          check(
            replaced(createAt, {
              query: sent[createAt].query.replace(/\/default\/events_daily_v2\w+'/, "/default/events_daily'"),
            }),
            /replica path not its own/,
          );
        }
        const swapAt = sent.findIndex((s) => /REPLACE PARTITION/.test(s.query));
        const sharded = { ...server, clusters: server.clusters.map((c) => ({ ...c, shards: 2 })) };
        expect(
          clusterViolations(
            replaced(swapAt, { query: sent[swapAt].query.replace('REPLACE', 'DROP') }),
            sharded,
            target,
          ),
        ).toEqual(expect.arrayContaining([`${swapAt}: DROP PARTITION on several shards`]));
        const checkAt = sent.findIndex((s) => /clusterAllReplicas\(.*WHERE _partition_id/.test(s.query));
        check(without(checkAt), /swap not checked on every replica/);
      });

      test('a replica holding other rows after the swap fails it before the ledger records it', async () => {
        const { ch, sent: log } = scriptedClickHouse(false, PARTITION.id, 10, {}, { 'ch-node-2': 0 });
        await expect(runPartition(ch, task)).rejects.toThrow(/ch-node-2 holds 0.*the shadow 10 rows/);
        expect(log.some((s) => /^INSERT INTO \{ledger_db/.test(s.query))).toBe(false);
      });
    }
  });
});

describe('replicated cluster DDL and engines', () => {
  const server = recordedProfile('replicated-cluster');
  const shadow = { database: 'default', name: 'events_daily_v2_202401_w1' };

  test('the shadow is the live engine with its own Keeper path; its other arguments and clauses are kept', () => {
    const statement = dialectOf(server).createLike(shadow, { database: 'default', name: 'events_daily' });
    expect(statement.query).toBe(
      'CREATE TABLE {table_db:Identifier}.{table:Identifier} ON CLUSTER `main` AS `default`.`events_daily` ' +
        "ENGINE = ReplicatedSummingMergeTree('/clickhouse/tables/{shard}/default/events_daily_v2_202401_w1', " +
        "'{replica}', (daily_events, daily_sum_ctr)) PARTITION BY toYYYYMM(date) ORDER BY (user_id, host, date) " +
        'SETTINGS index_granularity = 8192',
    );
    expect(replicatedEngineWithOwnPath('ReplicatedMergeTree ORDER BY x', shadow)).toBe(
      "ReplicatedMergeTree('/clickhouse/tables/{shard}/default/events_daily_v2_202401_w1', '{replica}') ORDER BY x",
    );
    expect(() => replicatedEngineWithOwnPath('MergeTree ORDER BY x', shadow)).toThrow(/cannot derive/);
  });

  test('a host that has not answered in time is "look again" (retried); a host error fails the step', async () => {
    const dialect = dialectOf(server);
    const statement = aggregatePartitionStatements({ ...aggregateTask(), server }).prepare[1];
    const answering = (rows: unknown[]) => {
      const { ch } = scriptedClickHouse(false, PARTITION.id);
      return { ...ch, rows: () => Promise.resolve(rows as never[]) };
    };
    await expect(
      runDdl(
        answering([
          { host: 'ch-node-1', status: 0 },
          { host: 'ch-node-3', status: null },
        ]),
        statement,
        dialect,
      ),
    ).rejects.toThrow(DdlPendingError);
    await expect(
      runDdl(answering([{ host: 'ch-node-2', status: 253, error: 'REPLICA_ALREADY_EXISTS' }]), statement, dialect),
    ).rejects.toThrow(/ch-node-2: REPLICA_ALREADY_EXISTS/);
    await expect(runDdl(answering([{ host: 'ch-node-1', status: 0 }]), statement, dialect)).resolves.toBeUndefined();
  });

  test('load checks and KILL reach every replica of the cluster', () => {
    const dialect = dialectOf(server);
    expect(dialect.systemTable('processes')).toBe("clusterAllReplicas('main', system.processes)");
    expect(dialect.killScope).toBe(' ON CLUSTER `main`');
  });
});
