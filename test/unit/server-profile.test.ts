import { readFileSync } from 'node:fs';
import path from 'node:path';
import { detectServerProfile, topologyOf } from '../../src/activities/engine/server-profile';
import { refuseUnsupportedServer } from '../../src/activities/engine/server-refusal';
import { safetySchema } from '../../src/shared/job-spec';
import type { ServerProfile } from '../../src/shared/server-profile';
import type { TableRef } from '../../src/shared/table-ref';
import type { ImportJob, ViewJob } from '../../src/shared/job-spec';
import { importBatchTask } from '../../src/shared/import-batch-task';
import { serverProfileLine } from '../../src/shared/server-profile-line';
import { viewPartitionTask } from '../../src/shared/view-partition-task';
import { cannedClickHouse, type CannedAnswer } from '../helpers/canned-clickhouse';

const PROFILES = path.join(__dirname, '../fixtures/server-profiles');
const recorded = (name: string): ServerProfile =>
  JSON.parse(readFileSync(path.join(PROFILES, `${name}.json`), 'utf8')) as ServerProfile;

const table = (qualified: string): TableRef => {
  const [database, name] = qualified.split('.');
  return { database, name };
};
const JOB_TABLES = ['default.events', 'default.events_daily', 'default.backfill_ledger'].map(table);

/** What a server answers to detection's reads: each hostName() request reaches the next host, round robin. */
interface ServerAnswers {
  version: string;
  hosts: string[];
  cloudMode?: string;
  databases: { name: string; engine: string }[];
  tables: { database: string; name: string; engine: string; engine_full?: string }[];
  clusters: { name: string; shards: string; replicas: string; local?: string }[];
  patches?: { database: string; table: string; partition_id: string }[];
  /** A sharded cluster's replicas (`system.clusters` of its cluster), one row per replica. */
  shardHosts?: { shard: string; host: string; weight?: string }[];
}

function answering(server: ServerAnswers): CannedAnswer[] {
  let call = 0;
  return [
    { match: 'version()', rows: [{ version: server.version }] },
    { match: 'hostName()', rows: () => [{ host: server.hosts[call++ % server.hosts.length] }] },
    { match: 'system.settings', rows: server.cloudMode === undefined ? [] : [{ value: server.cloudMode }] },
    { match: 'system.databases', rows: server.databases },
    { match: 'system.tables', rows: server.tables },
    { match: 'host_name AS host FROM system.clusters', rows: server.shardHosts ?? [] },
    { match: 'system.clusters', rows: server.clusters },
    { match: 'system.parts', rows: server.patches ?? [] },
  ];
}

/** A stock server's sample clusters: listed in system.clusters, but the server is no member of a real cluster. */
const STOCK_CLUSTERS = [
  { name: 'test_cluster_two_shards_localhost', shards: '2', replicas: '1' },
  { name: 'test_shard_localhost', shards: '1', replicas: '1' },
];
const atomicDefault = [{ name: 'default', engine: 'Atomic' }];
const tablesOf = (engines: Record<string, string>) =>
  Object.entries(engines).map(([qualified, engine]) => ({ ...table(qualified), engine }));
const sortedClusters = (p: ServerProfile) => [...p.clusters].sort((a, b) => a.name.localeCompare(b.name));

/** The system-table answers of a recorded profile's server (clusters as system.clusters rows). */
function answersOfRecorded(p: ServerProfile, extra: Partial<ServerAnswers> = {}): ServerAnswers {
  const distributed = (qualified: string) => {
    const d = p.sharding?.distributed[qualified];
    return d && `Distributed('${d.cluster}', '${d.local.database}', '${d.local.name}', ${d.shardingKey ?? 'rand()'})`;
  };
  // A sharded cluster's local tables exist too (the job names only the Distributed ones).
  const locals = Object.entries(p.sharding?.engines ?? {}).map(([qualified, engineFull]) => ({
    ...table(qualified),
    engine: /^\w+/.exec(engineFull)![0],
    engine_full: engineFull,
  }));
  return {
    version: p.version,
    hosts: p.hosts,
    databases: Object.entries(p.databaseEngines).map(([name, engine]) => ({ name, engine })),
    tables: [
      ...tablesOf(p.tableEngines).map((t) => ({
        ...t,
        engine_full:
          p.cluster?.engines[`${t.database}.${t.name}`] ?? distributed(`${t.database}.${t.name}`) ?? t.engine,
      })),
      ...locals,
    ],
    shardHosts: (p.sharding?.shards ?? []).flatMap((s) => s.hosts.map((host) => ({ shard: String(s.num), host }))),
    // The server is listed in its own cluster and, as a stock server, in the sample one: `cluster` decides.
    clusters: sortedClusters(p).map((c) => ({
      name: c.name,
      shards: String(c.shards),
      replicas: String(c.replicas),
      local: c.name === p.cluster?.name ? '1' : '0',
    })),
    ...extra,
  };
}

describe('detectServerProfile', () => {
  it.each([
    ['single-server-24.8', {}],
    ['single-server-26.7', {}],
    ['cloud-26.7', { cloudMode: '1' }],
    ['replicated-cluster', {}],
    ['replicated-database-cluster', {}],
    ['sharded-cluster', {}],
    ['sharded-database-cluster', {}],
  ])('reads the recorded %s profile from its system tables', async (name, extra) => {
    const expected = recorded(name);
    const tables = Object.keys(expected.tableEngines).map(table);
    const { ch } = cannedClickHouse(answering(answersOfRecorded(expected, extra)));
    const target = tables.find((t) => t.name === 'events_daily');
    const profile = await detectServerProfile(ch, tables, { target });
    expect(profile).toEqual({ ...expected, clusters: sortedClusters(expected), hosts: [...expected.hosts].sort() });
  });

  it("records each shard's weight and the engine of a table the job writes on every shard", async () => {
    const expected = recorded('sharded-cluster');
    const byHost = { database: 'default', name: 'by_host_local' };
    const byHostEngine =
      "ReplicatedSummingMergeTree('/clickhouse/tables/{shard}/default/by_host_local', '{replica}') ORDER BY host";
    const answers = answersOfRecorded(expected);
    const { ch } = cannedClickHouse(
      answering({
        ...answers,
        tables: [...answers.tables, { ...byHost, engine: 'ReplicatedSummingMergeTree', engine_full: byHostEngine }],
        shardHosts: answers.shardHosts!.map((h) => ({ ...h, weight: h.shard === '1' ? '1' : '2' })),
      }),
    );
    const tables = [...Object.keys(expected.tableEngines).map(table), byHost];
    const profile = await detectServerProfile(ch, tables, {
      target: tables.find((t) => t.name === 'events_daily'),
      shardTables: [byHost],
    });
    expect(profile.sharding?.shards.map((s) => [s.num, s.weight])).toEqual([
      [1, 1],
      [2, 2],
    ]);
    expect(profile.sharding?.engines['default.by_host_local']).toBe(byHostEngine);
    expect(profile.sharding?.engines['default.backfill_ledger']).toBeUndefined();
  });

  it('asks the embedded engine once for its host and calls it embedded', async () => {
    const { ch, sent } = cannedClickHouse(
      answering({
        version: '26.7.2.1',
        hosts: ['vm'],
        databases: [{ name: 'default', engine: 'Overlay' }],
        tables: tablesOf({ 'default.events': 'MergeTree' }),
        clusters: [],
      }),
      true,
    );
    const profile = await detectServerProfile(ch, JOB_TABLES);
    expect(profile.topology).toBe('embedded');
    expect(sent.filter((s) => s.query.includes('hostName()'))).toHaveLength(1);
  });

  it('asks a server five times for its host, and keeps only the tables of the job', async () => {
    const { ch, sent } = cannedClickHouse(
      answering({
        version: '26.7.2.11',
        hosts: ['a'],
        databases: atomicDefault,
        tables: tablesOf({ 'default.events': 'MergeTree', 'default.backfill_ledger': 'ReplacingMergeTree' }),
        clusters: STOCK_CLUSTERS,
      }),
    );
    const profile = await detectServerProfile(ch, [table('default.events'), table('default.events_daily')]);
    expect(sent.filter((s) => s.query.includes('hostName()'))).toHaveLength(5);
    expect(profile.tableEngines).toEqual({ 'default.events': 'MergeTree' });
    expect(profile.topology).toBe('single-server');
  });

  it('does not ask an old server (no lightweight updates) for patch parts', async () => {
    const { ch, sent } = cannedClickHouse(answering(answersOfRecorded(recorded('single-server-24.8'))));
    const profile = await detectServerProfile(ch, JOB_TABLES);
    expect(profile.patchPartitions).toEqual({});
    expect(sent.some((s) => s.query.includes('system.parts'))).toBe(false);
  });

  it('lists the pending patch partitions of the job tables on a server with lightweight updates', async () => {
    const { ch } = cannedClickHouse(
      answering({
        ...answersOfRecorded(recorded('single-server-26.7')),
        patches: [
          { database: 'default', table: 'events_daily', partition_id: 'patch-2c3f-202401' },
          { database: 'default', table: 'events_daily', partition_id: 'patch-2c3f-202402' },
          { database: 'other', table: 'events_daily', partition_id: 'patch-9a9a-202401' },
        ],
      }),
    );
    const profile = await detectServerProfile(ch, JOB_TABLES);
    expect(profile.patchPartitions).toEqual({ 'default.events_daily': ['patch-2c3f-202401', 'patch-2c3f-202402'] });
  });
});

describe('topologyOf', () => {
  const facts = (over: Partial<Parameters<typeof topologyOf>[0]>): Parameters<typeof topologyOf>[0] => ({
    embedded: false,
    cloudMode: false,
    version: '26.7.1.1',
    hosts: ['h1'],
    databaseEngines: { default: 'Atomic' },
    tableEngines: { 'default.events': 'MergeTree' },
    clusters: [],
    patchPartitions: {},
    ...over,
  });

  it.each<[string, Partial<Parameters<typeof topologyOf>[0]>, string]>([
    ['the embedded engine', { embedded: true, tableEngines: { 'default.t': 'ReplicatedMergeTree' } }, 'embedded'],
    [
      'a stock server listing sample clusters',
      { clusters: [{ name: 'test_cluster_two_shards', shards: 2, replicas: 1 }] },
      'single-server',
    ],
    ['a Shared table', { tableEngines: { 'default.t': 'SharedSummingMergeTree' } }, 'cloud'],
    ['a Shared database', { databaseEngines: { default: 'Shared' }, tableEngines: {} }, 'cloud'],
    ['a server in Cloud mode (no table yet)', { cloudMode: true, tableEngines: {} }, 'cloud'],
    [
      'a Replicated table in an Atomic database',
      { tableEngines: { 'default.t': 'ReplicatedSummingMergeTree' } },
      'replicated-cluster',
    ],
    [
      'a Replicated database behind several hosts',
      { databaseEngines: { default: 'Replicated' }, hosts: ['a', 'b'], tableEngines: {} },
      'replicated-cluster',
    ],
    [
      'a Replicated database behind one host',
      { databaseEngines: { default: 'Replicated' }, tableEngines: {} },
      'single-server',
    ],
    [
      'a Distributed source',
      { tableEngines: { 'default.events': 'Distributed', 'default.t': 'ReplicatedMergeTree' } },
      'sharded-cluster',
    ],
    [
      'a Replicated database over several shards',
      {
        databaseEngines: { default: 'Replicated' },
        clusters: [{ name: 'default', shards: 2, replicas: 2 }],
        tableEngines: {},
      },
      'sharded-cluster',
    ],
  ])('%s', (_, over, topology) => {
    expect(topologyOf(facts(over))).toBe(topology);
  });
});

describe('refuseUnsupportedServer', () => {
  const safety = safetySchema.parse({});
  const target = table('default.events_daily');

  it('refuses a replicated cluster whose cluster is unknown, asking for cluster:', () => {
    const { cluster: _known, ...profile } = recorded('replicated-cluster');
    expect(() => refuseUnsupportedServer(profile, target, safety, 'replace')).toThrow(
      /default\.events[a-z_]* is Replicated\w*MergeTree in Atomic database default behind 3 hosts.*`cluster: <name>`.*main/,
    );
  });

  it('runs aggregate, view and import jobs on a known replicated cluster whose target exists replicated', () => {
    for (const name of ['replicated-cluster', 'replicated-database-cluster']) {
      const profile = recorded(name);
      for (const swap of ['replace', 'append'] as const) {
        expect(() => refuseUnsupportedServer(profile, target, safety, swap)).not.toThrow();
      }
      // A view's target missing: the tool creates no target on a cluster, in either database engine.
      expect(() => refuseUnsupportedServer(profile, table('default.missing'), safety, 'append')).toThrow(
        /target\.table: default\.missing must exist as a Replicated…MergeTree table on cluster \w+ .*docs\/clusters\.md/,
      );
    }
  });

  it('refuses a sharded cluster, naming the Distributed table and what is not built', () => {
    for (const swap of ['append', 'replace'] as const) {
      expect(() => refuseUnsupportedServer(recorded('sharded-cluster'), target, safety, swap)).toThrow(
        /sharded cluster: default\.events is Distributed \(a sharded table\); a job there must run per shard.*sharding key follows the job's keys.*per \(partition, shard\).*docs\/clusters\.md/,
      );
    }
  });

  it('refuses a single server older than 26.6 for a replacing swap, naming the version, unless the job accepts it', () => {
    const old = recorded('single-server-24.8');
    expect(() => refuseUnsupportedServer(old, target, safety, 'replace')).toThrow(
      /safety\.acceptPre266ReplacedParts: ClickHouse 24\.8\.14\.39 is older than 26\.6.*#107605/,
    );
    expect(() =>
      refuseUnsupportedServer(old, target, { ...safety, acceptPre266ReplacedParts: true }, 'replace'),
    ).not.toThrow();
    expect(() => refuseUnsupportedServer(old, target, safety, 'append')).not.toThrow();
  });

  it.each(['single-server-26.7', 'cloud-26.7'])('writes on %s', (name) => {
    expect(() => refuseUnsupportedServer(recorded(name), target, safety, 'replace')).not.toThrow();
  });
});

describe("the plan's profile on every task, and on one line", () => {
  const cloud = recorded('cloud-26.7');
  const partition = {
    id: '202401',
    start: '2024-01-01',
    end: '2024-02-01',
    sourceRows: 1,
    targetRows: 0,
    maxRowsPerKey: 0,
    salt: 1,
  };
  const tables = { source: table('default.events'), target: table('default.events_daily') };

  it('a view task carries the server of the plan it is built from', () => {
    const task = viewPartitionTask({} as ViewJob, { ...tables, server: cloud }, partition, 'TAG', 1_700_000_000);
    expect(task.server).toBe(cloud);
  });

  it('an import batch task carries the server of its plan', () => {
    const plan = {
      ...tables,
      checkpoint: 0,
      partitionKey: '',
      columns: [],
      views: [],
      targets: [],
      batches: [],
      server: cloud,
    };
    const task = importBatchTask({} as ImportJob, plan, { ...partition, fromMicros: 0, toMicros: 1 }, 'TAG');
    expect(task.server).toBe(cloud);
  });

  it('prints topology, version, hosts and engines', () => {
    expect(serverProfileLine(cloud)).toBe(
      'cloud, ClickHouse 26.7.1.5421, 3 hosts (c-olive-ab-12-server-0, c-olive-ab-12-server-1, c-olive-ab-12-server-2), ' +
        'engines: default Replicated, default.events SharedMergeTree, default.events_daily SharedSummingMergeTree, ' +
        'default.backfill_ledger SharedReplacingMergeTree',
    );
  });
});
