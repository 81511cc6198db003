import { plannedPartitionStatements } from '../../src/activities/aggregate/describe-backfill';
import {
  checkShardedJob,
  refuseOnlyChangedSharded,
  SHARDING_STATED_CONSEQUENCE,
} from '../../src/activities/aggregate/sharding-check';
import { partitionsPerShardOf } from '../../src/activities/aggregate/plan-backfill';
import { dayPartitionPerShard } from '../../src/activities/daily/daily-steps';
import { aggregationShape } from '../../src/sql/aggregate/aggregation-shape';
import type { ClickHouse } from '../../src/clickhouse/clickhouse';
import { refuseUnsupportedServer } from '../../src/activities/engine/server-refusal';
import { aggregateJobSchema, type AggregateJob } from '../../src/shared/job-spec';
import { partitionLockId } from '../../src/shared/partition-lock';
import type { ServerProfile } from '../../src/shared/server-profile';
import { partitionsPerShard } from '../../src/shared/shard-partitions';
import { dialectOf } from '../../src/sql/engine/server-dialect';
import { distributedTableOf } from '../../src/sql/engine/distributed-engine';
import { selectClusterLoadPerHost, type HostLoadRow } from '../../src/sql/engine/cluster-load';
import { loadPerHost } from '../../src/activities/engine/cluster-load';
import { assessLoad } from '../../src/shared/load-assessment';
import { loadThresholdsSchema } from '../../src/shared/load-thresholds';
import { runPartition } from '../helpers/scripted-clickhouse';
import { partitionSteps } from '../../src/activities/engine/partition-steps';
import { distributedTables, scriptedShardedCluster, shardTask, type RoutedStatement } from '../helpers/sharded-cluster';
import { aggregateJob, PARTITION } from '../helpers/topology-jobs';
import { recordedProfile } from '../helpers/recorded-profile';
import { ddlViolations, syncedSinceLastWrite, tableOf } from '../helpers/sharded-violations';

/**
 * Statement-level tests of topology 3 (several shards behind `Distributed` tables) from recorded profiles, in an
 * Atomic database (DDL `ON CLUSTER`) and in a Replicated one (the database replicates DDL). A backfill's partition
 * runs once per shard: its steps' statements are recorded with the client they went through (the worker's own,
 * `main`, or the one of a shard). No server or Keeper runs here: these check what the tool sends, and each failure
 * mode of docs/clusters.md is shown to fail the check when introduced.
 */

const SHARDED = [
  ['sharded-cluster (Atomic, ON CLUSTER main)', recordedProfile('sharded-cluster')],
  ['sharded-database-cluster (Replicated database)', recordedProfile('sharded-database-cluster')],
] as const;

const quoted = (qualified: string) =>
  qualified
    .split('.')
    .map((p) => `\`${p}\``)
    .join('.');

/**
 * The failure modes of a shard's swap found in what was sent, as words: a CTAS; a shadow or backup in another
 * database than the local target's; `ON CLUSTER` inside a Replicated database, or DDL without it in an Atomic one;
 * the fill or a partition ALTER sent to another client than the task's shard; a partition ALTER reading a table's
 * parts not preceded, since the last write on that shard, by a sync of that table on the same shard (the replica
 * that runs it); a DROP PARTITION of the target where a REPLACE from the empty shadow must be sent; a swap not
 * then compared on every replica of that shard; a ledger row not keyed by `<partition>@<shard>`.
 */
function shardViolations(sent: RoutedStatement[], server: ServerProfile, shard: number, target: string): string[] {
  const found: string[] = [];
  const sharding = server.sharding!;
  const db = target.split('.')[0];
  const on = `shard ${shard}`;
  const hosts = sharding.shards.find((s) => s.num === shard)!.hosts;
  sent.forEach((s, i) => {
    found.push(...ddlViolations(s, i, server));
    if (/^CREATE TABLE \{table_db/.test(s.query) && s.params.table_db !== db)
      found.push(`${i}: created in another database`);
    const write = /^(INSERT INTO \{into_db|ALTER TABLE)/.test(s.query);
    if (write && s.on !== on)
      found.push(`${i}: ${s.query.split(' ').slice(0, 3).join(' ')} sent to ${s.on}, not ${on}`);
    const reads = /(?:REPLACE|ATTACH) PARTITION ID \{partition_id:String\} FROM `(\w+)`\.`(\w+)`/.exec(s.query);
    if (reads && !/allow_replace_partition_from_empty_source = 1/.test(s.query)) {
      const anyWrite = (x: RoutedStatement) => x.via === 'exec' && !/^SYSTEM/.test(x.query);
      if (!syncedSinceLastWrite(sent, i, `${reads[1]}.${reads[2]}`, anyWrite))
        found.push(`${i}: ALTER not preceded by a sync of the replica that runs it`);
    }
    if (/DROP PARTITION/.test(s.query) && tableOf(s, 'target') === target)
      found.push(`${i}: DROP PARTITION where a REPLACE must be sent`);
    if (/REPLACE PARTITION/.test(s.query) && tableOf(s, 'target') === target) {
      const check = sent
        .slice(i + 1)
        .findIndex(
          (x) =>
            /clusterAllReplicas\(.*WHERE _partition_id/.test(x.query) &&
            JSON.stringify(x.params.hosts) === JSON.stringify(hosts),
        );
      const ledger = sent.slice(i + 1).findIndex((x) => /^INSERT INTO \{ledger_db/.test(x.query));
      if (check < 0 || (ledger >= 0 && ledger < check)) found.push(`${i}: swap not checked on every replica of ${on}`);
    }
    if (/^INSERT INTO \{ledger_db/.test(s.query) && s.params.partition !== `${PARTITION.id}@${shard}`)
      found.push(`${i}: ledger row of ${String(s.params.partition)}, not of ${PARTITION.id}@${shard}`);
  });
  return found;
}

/**
 * A sharded cluster's ledger (or other bookkeeping table) that is not one replica group over the whole cluster, as
 * words: a Keeper path with `{shard}` (each shard's nodes would hold their own ledger, and a row written through a
 * node of one shard would be missing through a node of another), no arguments (a Replicated database's default
 * path, `/clickhouse/tables/{uuid}/{shard}`, is per shard too), a replica name that is unique only within a shard.
 */
function ledgerViolations(query: string): string[] {
  const engine = /ENGINE = Replicated\w*MergeTree(?:\('([^']*)', '([^']*)'\))?/.exec(query);
  if (!engine) return ['not replicated'];
  if (engine[1] === undefined) return ["the database's default path (per shard)"];
  if (engine[1].includes('{shard}')) return ['a Keeper path per shard'];
  if (!engine[2].includes('{shard}')) return ['a replica name unique only within a shard'];
  return [];
}

describe.each(SHARDED)('%s', (_name, server) => {
  const sharding = server.sharding!;
  const local = (t: string) => `${sharding.distributed[t].local.database}.${sharding.distributed[t].local.name}`;
  const tables = distributedTables(server);
  const target = local(`${tables.target.database}.${tables.target.name}`);

  describe.each(sharding.shards.map((s) => s.num))('shard %i of a partition', (shard) => {
    const task = shardTask(server, shard);
    let sent: RoutedStatement[];
    beforeAll(async () => {
      const cluster = scriptedShardedCluster(server);
      await runPartition(cluster.ch, task, { shardClient: cluster.shardClient });
      sent = cluster.sent;
    });

    test('runs on the local tables, its own shadow, under the lock <partition>@<shard>', () => {
      expect(`${task.target.database}.${task.target.name}`).toBe(target);
      expect(task.source).toEqual(sharding.distributed[`${tables.source.database}.events`].local);
      expect(task.shadow.name).toBe(`events_daily_local_v2_202401_s${shard}_w1`);
      expect(task.partition.id).toBe(PARTITION.id);
      expect(partitionLockId(task.target, task.partition.id, task.server?.shard?.num)).toBe(
        `partition:${target}/202401@${shard}`,
      );
    });

    test('none of the failure modes is sent', () => {
      expect(shardViolations(sent, server, shard, target)).toEqual([]);
    });

    test('the fill and the swap go to that shard, each after a sync there; the ledger row through the worker', () => {
      const shadow = `${quoted(`${task.shadow.database}.${task.shadow.name}`)}`;
      const fillSent = sent.find((s) => /^INSERT INTO \{into_db/.test(s.query))!;
      expect(tableOf(fillSent, 'source')).toBe(local(`${tables.source.database}.events`));
      const onShard = sent.filter((s) => s.on === `shard ${shard}`).map((s) => s.query);
      const fill = onShard.indexOf(fillSent.query);
      expect(onShard[fill + 1]).toBe(`SYSTEM SYNC REPLICA ${shadow} LIGHTWEIGHT`);
      const swap = onShard.findIndex((q) => /REPLACE PARTITION/.test(q));
      expect(onShard[swap - 1]).toBe(`SYSTEM SYNC REPLICA ${shadow} LIGHTWEIGHT`);
      expect(onShard[swap]).toBe(
        `ALTER TABLE {target_db:Identifier}.{target:Identifier} REPLACE PARTITION ID {partition_id:String} FROM ${shadow} SETTINGS alter_sync = 3`,
      );
      // No other shard receives anything. The worker's own client stops an earlier attempt's build on every
      // replica of every shard (ON CLUSTER, then clusterAllReplicas), and writes the ledger row.
      expect(new Set(sent.map((s) => s.on))).toEqual(new Set(['main', `shard ${shard}`]));
      const viaMain = sent.filter((s) => s.on === 'main').map((s) => s.query);
      expect(viaMain).toHaveLength(3);
      expect(viaMain[0]).toMatch(new RegExp(`^KILL QUERY ON CLUSTER \`${sharding.name}\` WHERE`));
      expect(viaMain[1]).toContain(`FROM clusterAllReplicas('${sharding.name}', system.processes)`);
      expect(viaMain[2]).toMatch(/^INSERT INTO \{ledger_db:Identifier\}/);
    });

    test("the shadow is created empty in the local target's database, on every shard, then filled by one INSERT", () => {
      const create = sent.find((s) => /^CREATE TABLE \{table_db/.test(s.query) && s.params.table === task.shadow.name)!;
      if (sharding.databaseEngine === 'Atomic') {
        expect(create.query).toBe(
          `CREATE TABLE {table_db:Identifier}.{table:Identifier} ON CLUSTER \`main\` AS ${quoted(target)} ` +
            `ENGINE = ReplicatedSummingMergeTree('/clickhouse/tables/{shard}/default/${task.shadow.name}', '{replica}', ` +
            '(daily_events, daily_sum_ctr)) PARTITION BY toYYYYMM(date) ORDER BY (user_id, host, date) ' +
            'SETTINGS index_granularity = 8192',
        );
      } else {
        expect(create.query).toBe(`CREATE TABLE {table_db:Identifier}.{table:Identifier} AS ${quoted(target)}`);
      }
      expect(create.settings).toEqual(dialectOf(task.server).ddlSettings);
      expect(sent.filter((s) => /^INSERT INTO \{into_db/.test(s.query))).toHaveLength(1);
    });

    test('the plan lists the statements the steps send, in order, with their settings', () => {
      const planned = plannedPartitionStatements(task, false).filter((p) => !/\{ledger_db/.test(p.query));
      const listed = new Set(planned.map((p) => p.query));
      const compared = sent.filter((s) => listed.has(s.query));
      expect(compared.map((s) => s.query)).toEqual(planned.map((p) => p.query));
      compared.forEach((s, i) => expect(s.settings).toEqual(planned[i].settings));
    });

    test('each failure mode, introduced into what was sent, is found', () => {
      const check = (mutated: RoutedStatement[], words: RegExp) =>
        expect(shardViolations(mutated, server, shard, target).join('; ')).toMatch(words);
      const without = (i: number) => sent.filter((_, j) => j !== i);
      const replaced = (i: number, s: Partial<RoutedStatement>) => sent.map((x, j) => (j === i ? { ...x, ...s } : x));
      const swapAt = sent.findIndex((s) => /REPLACE PARTITION/.test(s.query));
      const createAt = sent.findIndex((s) => /^CREATE TABLE \{table_db/.test(s.query));
      // A swap not preceded by a sync of the replica that runs it: the sync dropped, or sent to another shard.
      check(without(swapAt - 1), /ALTER not preceded by a sync of the replica that runs it/);
      check(replaced(swapAt - 1, { on: 'main' }), /ALTER not preceded by a sync/);
      // The swap sent through the worker's own client (whichever shard that reaches).
      check(replaced(swapAt, { on: 'main' }), /REPLACE.*sent to main|ALTER TABLE .* sent to main/);
      // A CTAS on a cluster.
      check(
        replaced(createAt, { query: `${sent[createAt].query.replace(/ ENGINE = .*/, '')} AS SELECT 1` }),
        /AS SELECT/,
      );
      // A shadow in another database.
      check(replaced(createAt, { params: { ...sent[createAt].params, table_db: 'elsewhere' } }), /another database/);
      // A DROP where a REPLACE must be sent.
      check(
        replaced(swapAt, { query: sent[swapAt].query.replace(/REPLACE PARTITION (.*) FROM \S+/, 'DROP PARTITION $1') }),
        /DROP PARTITION where a REPLACE must be sent/,
      );
      if (sharding.databaseEngine === 'Replicated') {
        check(
          replaced(createAt, { query: sent[createAt].query.replace(/ AS /, ' ON CLUSTER `rdb` AS ') }),
          /ON CLUSTER in a Replicated database/,
        );
      } else {
        check(
          replaced(createAt, { query: sent[createAt].query.replace(/ ON CLUSTER `main`/, '') }),
          /without ON CLUSTER/,
        );
      }
      const checkAt = sent.findIndex((s) => /clusterAllReplicas\(.*WHERE _partition_id/.test(s.query));
      check(without(checkAt), /swap not checked on every replica/);
      const ledgerAt = sent.findIndex((s) => /^INSERT INTO \{ledger_db/.test(s.query));
      check(
        replaced(ledgerAt, { params: { ...sent[ledgerAt].params, partition: PARTITION.id } }),
        /ledger row of 202401,/,
      );
    });
  });

  test('an empty source partition is emptied on the shard by REPLACE from the empty shadow, never DROP', async () => {
    const task = shardTask(server, 2, { sourceRows: 0 });
    const backup = `${task.backup!.database}.${task.backup!.name}`;
    const cluster = scriptedShardedCluster(server, { rows: 0, rowsOf: { [target]: 10, [backup]: 10 } });
    await runPartition(cluster.ch, task, { shardClient: cluster.shardClient });
    const swap = cluster.sent.filter((s) => /PARTITION ID/.test(s.query) && tableOf(s, 'target') === target);
    expect(swap.map((s) => [s.on, s.query])).toEqual([
      [
        'shard 2',
        'ALTER TABLE {target_db:Identifier}.{target:Identifier} REPLACE PARTITION ID {partition_id:String} FROM ' +
          `${quoted(`${task.shadow.database}.${task.shadow.name}`)} SETTINGS alter_sync = 3, ` +
          'allow_replace_partition_from_empty_source = 1',
      ],
    ]);
    expect(shardViolations(cluster.sent, server, 2, target)).toEqual([]);
  });

  test('a replica of the shard holding other rows after the swap fails it before the ledger records it, naming the host', async () => {
    const [, host] = sharding.shards[0].hosts;
    const cluster = scriptedShardedCluster(server, { replicaRows: { [host]: 0 } });
    await expect(runPartition(cluster.ch, shardTask(server, 1), { shardClient: cluster.shardClient })).rejects.toThrow(
      new RegExp(`${host} holds 0.*the shadow 10 rows`),
    );
    expect(cluster.sent.some((s) => /^INSERT INTO \{ledger_db/.test(s.query))).toBe(false);
  });

  test('the load guard and KILL reach every replica of every shard', () => {
    const dialect = dialectOf(server);
    expect(dialect.systemTable('processes')).toBe(`clusterAllReplicas('${sharding.name}', system.processes)`);
    expect(dialect.killScope).toBe(` ON CLUSTER \`${sharding.name}\``);
    // The plan's row counts read the Distributed tables themselves: their system.parts is empty.
    expect(dialect.rowCountsFrom).toBe('table');
    // The load check reads the local tables' parts and mutations on every node, per host (never summed).
    expect(dialect.loadPerHost).toBe(true);
    const load = selectClusterLoadPerHost(
      sharding.distributed[`${tables.source.database}.events`].local,
      sharding.distributed[`${tables.target.database}.events_daily`].local,
      dialect,
    ).query;
    expect(load).toContain(`FROM clusterAllReplicas('${sharding.name}', system.parts)`);
    expect(load).toContain(`FROM clusterAllReplicas('${sharding.name}', system.mutations)\n  WHERE is_done = 0`);
    expect(load).not.toMatch(/FROM system\./);
    const signals = load.split('\n').filter((l) => /^(UNION ALL )?SELECT /.test(l));
    expect(signals).toHaveLength(8);
    // Each signal grouped by host (the fullest partition twice: per partition and host, then per host).
    expect(load.match(/GROUP BY host\b/g)).toHaveLength(9);
    expect(load).not.toMatch(/\bsum\(/);
  });

  test('the load guard pauses on the worst host, naming it, where the sum over hosts would differ', () => {
    const rows = (host: string, parts: number, delayed: number): HostLoadRow[] => [
      { host, signal: 'running_queries', value: '3', place: '' },
      { host, signal: 'fullest', value: String(parts), place: 'default.events_local/202401' },
      { host, signal: 'delayed_inserts', value: String(delayed), place: '' },
    ];
    const [h1, h2] = sharding.shards[0].hosts;
    const [h3] = sharding.shards[1].hosts;
    const thresholds = loadThresholdsSchema.parse({ maxPartsPerPartition: 300, maxRunningQueries: 8 });
    // Each host runs 3 queries (9 summed, over 8): no host is over, so no pause.
    const calm = loadPerHost([...rows(h1, 100, 0), ...rows(h2, 100, 0), ...rows(h3, 100, 0)]);
    expect(calm.runningQueries).toBe(3);
    expect(assessLoad(calm, thresholds)).toEqual({ overloaded: false });
    // Shard 2's replica has 412 parts in a partition, and inserts delayed: the pause names it.
    const busy = loadPerHost([...rows(h1, 310, 0), ...rows(h2, 100, 0), ...rows(h3, 412, 2)]);
    const verdict = assessLoad(busy, thresholds);
    expect(verdict).toEqual({
      overloaded: true,
      reason:
        `on ${h3}: parts per partition 412 > 300 (default.events_local/202401 on ${h3}); DelayedInserts 2 > 0 ` +
        `(also over a threshold: ${h1})`,
      signals: ['parts per partition', 'DelayedInserts'],
    });
    expect(busy.fullestPartition).toBe(`default.events_local/202401 on ${h3}`);
  });

  test('the ledger is one replica group over every node of every shard: no {shard} in its path', () => {
    const ledger = { database: tables.target.database, name: '_backfill_ledger' };
    const create = dialectOf(shardTask(server, 2).server).createLedger(ledger);
    const replication =
      `ReplicatedReplacingMergeTree('/clickhouse/tables/all_shards/${sharding.name}/${ledger.database}/` +
      "_backfill_ledger', '{shard}-{replica}') ORDER BY";
    expect(create.query).toContain(`ENGINE = ${replication}`);
    if (sharding.databaseEngine === 'Atomic') {
      expect(create.query).toMatch(
        /^CREATE TABLE IF NOT EXISTS \{ledger_db:Identifier\}\.\{ledger:Identifier\} ON CLUSTER `main` \(/,
      );
      expect(dialectOf(server).ddlSettings).not.toHaveProperty('database_replicated_allow_replicated_engine_arguments');
    } else {
      expect(create.query).not.toContain('ON CLUSTER');
      // The database takes explicit arguments only with this setting (2 would replace them with its own path).
      expect(dialectOf(server).ddlSettings).toMatchObject({ database_replicated_allow_replicated_engine_arguments: 1 });
    }
    expect(ledgerViolations(create.query)).toEqual([]);
    // The failure modes: the per-shard path of topologies 1 and 2, the database's default (per shard too), and a
    // replica name unique only within a shard.
    expect(
      ledgerViolations(create.query.replace('all_shards/main/', '{shard}/').replace('all_shards/rdb/', '{shard}/')),
    ).toEqual(['a Keeper path per shard']);
    expect(ledgerViolations(create.query.replace(/(MergeTree)\('[^)]*\)/, '$1'))).toEqual([
      "the database's default path (per shard)",
    ]);
    expect(ledgerViolations(create.query.replace("'{shard}-{replica}'", "'{replica}'"))).toEqual([
      'a replica name unique only within a shard',
    ]);
    // The import's bookkeeping tables alike.
    const files = dialectOf(server).bookkeepingTable(
      { query: 'CREATE TABLE IF NOT EXISTS {t:Identifier} (a String) ENGINE = MergeTree ORDER BY a', params: {} },
      { database: ledger.database, name: '_backfill_import_files' },
    );
    expect(files.query).toContain(
      `ENGINE = ReplicatedMergeTree('/clickhouse/tables/all_shards/${sharding.name}/${ledger.database}/_backfill_import_files', '{shard}-{replica}') ORDER BY a`,
    );
    expect(ledgerViolations(files.query)).toEqual([]);
  });

  test("the backup's retention drop reaches every node (the dialect's DROP, read per host), never one node", async () => {
    const cluster = scriptedShardedCluster(server);
    const steps = partitionSteps({ clickhouse: cluster.ch, log: { info: () => undefined, warn: () => undefined } });
    const backup = { database: tables.target.database, name: 'events_daily_local_backup_w1' };
    await steps.dropBackup(backup, server);
    expect(cluster.sent.map((s) => [s.on, s.via, s.query, s.settings])).toEqual([
      [
        'main',
        'rows',
        sharding.databaseEngine === 'Atomic'
          ? 'DROP TABLE IF EXISTS {table_db:Identifier}.{table:Identifier} ON CLUSTER `main` SYNC'
          : 'DROP TABLE IF EXISTS {table_db:Identifier}.{table:Identifier} SYNC',
        dialectOf(server).ddlSettings,
      ],
    ]);
    expect(cluster.sent[0].params).toEqual({ table_db: backup.database, table: backup.name });
  });

  test("each (partition, shard) entry carries its own shard's planned rows, read per shard through Distributed", async () => {
    const sent: string[] = [];
    const answers: Record<string, { id: string; shard: string; rows: string }[]> = {
      source: [
        { id: '202401', shard: '1', rows: '70' },
        { id: '202401', shard: '2', rows: '30' },
        { id: '202402', shard: '2', rows: '5' },
      ],
      table: [{ id: '202401', shard: '1', rows: '40' }],
    };
    const ch = {
      rows: (statement: { query: string; params: Record<string, unknown> }) => {
        sent.push(statement.query);
        return Promise.resolve(answers['source' in statement.params ? 'source' : 'table']);
      },
    } as unknown as ClickHouse;
    const checked = { shape: aggregationShape(aggregateJob), ...tables, targetExisted: true };
    // What the plan read through the Distributed tables: the partitions' rows over every shard.
    const ranged = [
      { ...PARTITION, sourceRows: 100, targetRows: 40 },
      { ...PARTITION, id: '202402', start: '2024-02-01', end: '2024-03-01', sourceRows: 5, targetRows: 0 },
    ];
    const planned = await partitionsPerShardOf(ch, checked, ranged, server);
    expect(planned.map((p) => [p.id, p.sourceRows, p.targetRows])).toEqual([
      ['202401@1', 70, 40],
      ['202401@2', 30, 0],
      ['202402@1', 0, 0],
      ['202402@2', 5, 0],
    ]);
    expect(sent).toHaveLength(2);
    expect(sent[0]).toMatch(/^SELECT toString\(toYYYYMM\(.*\)\) AS id,\n  toString\(_shard_num\) AS shard/);
    expect(sent[0]).toContain('FROM {source_db:Identifier}.{source:Identifier}');
    expect(sent[0]).toMatch(/GROUP BY id, shard/);
    expect(sent[1]).toMatch(
      /^SELECT _partition_id AS id, toString\(_shard_num\) AS shard, toString\(count\(\)\) AS rows FROM/,
    );
    // Without the per-shard read every entry would carry the whole partition's rows (the backup decision reads
    // targetRows: shard 2 of 202401 holds none, so it needs no backup).
    expect(partitionsPerShard(ranged, sharding.shards).map((p) => p.targetRows)).toEqual([40, 40, 0, 0]);
  });

  test("a daily run's plan lists the day's partition on every shard, each with its own rows", () => {
    const empty = { ...PARTITION, sourceRows: 0, targetRows: 0, maxRowsPerKey: 0, salt: 1 };
    const planned = [{ ...PARTITION, id: '202401@2', shard: 2, sourceRows: 7, targetRows: 3 }];
    expect(
      dayPartitionPerShard(planned, empty, sharding.shards).map((p) => [p.id, p.shard, p.sourceRows, p.targetRows]),
    ).toEqual([
      ['202401@1', 1, 0, 0],
      ['202401@2', 2, 7, 3],
    ]);
  });

  test('--only changed is refused on a sharded cluster, naming the mode (never every partition taken silently)', () => {
    expect(() => refuseOnlyChangedSharded(server, 'changed')).toThrow(
      /^only: changed is not supported on a sharded cluster: its ledger rows are per \(partition, shard\)/,
    );
    for (const only of ['all', 'missing', 'failed', undefined])
      expect(() => refuseOnlyChangedSharded(server, only)).not.toThrow();
  });

  test('the plan lists one entry per (partition, shard)', () => {
    const planned = partitionsPerShard([{ ...PARTITION }, { ...PARTITION, id: '202402' }], sharding.shards);
    expect(planned.map((p) => [p.id, p.shard])).toEqual([
      ['202401@1', 1],
      ['202401@2', 2],
      ['202402@1', 1],
      ['202402@2', 2],
    ]);
  });
});

describe('the sharding-key check', () => {
  const server = recordedProfile('sharded-cluster');
  const tables = {
    source: { database: 'default', name: 'events' },
    target: { database: 'default', name: 'events_daily' },
  };
  const keyed = (shardingKey: string): ServerProfile => ({
    ...server,
    sharding: {
      ...server.sharding!,
      distributed: {
        ...server.sharding!.distributed,
        'default.events': { ...server.sharding!.distributed['default.events'], shardingKey },
      },
    },
  });
  const job = (extra: object = {}): AggregateJob =>
    aggregateJobSchema.parse({ ...aggregateJob, ...extra, safety: aggregateJob.safety });

  test("a sharding key that is a function of the job's keys passes; the plan lets the sharded job through", () => {
    for (const key of ['cityHash64(user_id)', 'sipHash64(user_id, host)', 'user_id % 4']) {
      expect(checkShardedJob(keyed(key), job(), tables)).toBeUndefined();
    }
    expect(() =>
      refuseUnsupportedServer(server, tables.target, job().safety, 'replace', { perShard: true }),
    ).not.toThrow();
  });

  test.each([
    ['cityHash64(session_id)', 'columns session_id'],
    ['rand()', 'columns none'],
    ['cityHash64(user_id, ts)', 'columns user_id, ts'],
  ])('a sharding key %s that does not follow the keys is refused, naming both keys', (key, read) => {
    expect(() => checkShardedJob(keyed(key), job(), tables)).toThrow(
      `sharding.keyFollowsJobKeys: default.events is sharded by ${key} (${read}), which is not a function of the ` +
        "job's keys (user_id, host)",
    );
  });

  test('the job may state that its groups live on one shard; the consequence is what the plan prints', () => {
    const stated = job({ sharding: { keyFollowsJobKeys: true } });
    expect(checkShardedJob(keyed('cityHash64(session_id)'), stated, tables)).toBe(SHARDING_STATED_CONSEQUENCE);
    expect(SHARDING_STATED_CONSEQUENCE).toMatch(/shows that group twice/);
  });

  test('a source that is not Distributed, or a target on another cluster, is refused naming it', () => {
    const { 'default.events': _source, ...rest } = server.sharding!.distributed;
    expect(() =>
      checkShardedJob({ ...server, sharding: { ...server.sharding!, distributed: rest } }, job(), tables),
    ).toThrow(/^source\.table: .*default\.events is not a Distributed table/);
    const elsewhere = {
      ...server,
      sharding: {
        ...server.sharding!,
        distributed: {
          ...rest,
          'default.events': { ...server.sharding!.distributed['default.events'], cluster: 'other' },
        },
      },
    };
    expect(() => checkShardedJob(elsewhere, job(), tables)).toThrow(
      /over cluster main, the source default\.events over other/,
    );
  });

  test('a cluster older than 26.6 is refused, naming its version (no REPLACE from an empty source)', () => {
    expect(() => checkShardedJob({ ...server, version: '25.8.3.1' }, job(), tables)).toThrow(
      /^target\.table: ClickHouse 25\.8\.3\.1 is older than 26\.6: .*allow_replace_partition_from_empty_source/,
    );
  });

  test('other job kinds stay refused on a sharded cluster', () => {
    expect(() => refuseUnsupportedServer(server, tables.target, job().safety, 'append')).toThrow(
      /sharded cluster: default\.events(_daily)? is Distributed/,
    );
    expect(() => refuseUnsupportedServer(server, tables.target, job().safety, 'replace')).toThrow(
      /this job kind does not yet/,
    );
  });

  test("a Distributed table's storage reads as its cluster, local table and sharding key", () => {
    expect(distributedTableOf("Distributed('main', 'default', 'events_local', cityHash64(user_id, 'a,b'))")).toEqual({
      cluster: 'main',
      local: { database: 'default', name: 'events_local' },
      shardingKey: "cityHash64(user_id, 'a,b')",
    });
    expect(distributedTableOf('Distributed(main, default, events_local)')).toEqual({
      cluster: 'main',
      local: { database: 'default', name: 'events_local' },
    });
    expect(distributedTableOf('MergeTree ORDER BY x')).toBeUndefined();
  });
});
