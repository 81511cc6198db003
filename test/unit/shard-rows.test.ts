import { checkShardedImport } from '../../src/activities/import/sharded-import-check';
import { parseExpression } from '../../src/shared/expression-syntax';
import type { ServerProfile, ShardHosts } from '../../src/shared/server-profile';
import { nondeterministicCall, shardOwnsRows, shardRowsOf, shardSlots } from '../../src/sql/engine/shard-rows';

const shards = (...weights: (number | undefined)[]): ShardHosts[] =>
  weights.map((weight, i) => ({ num: i + 1, hosts: [`ch-s${i + 1}`], ...(weight === undefined ? {} : { weight }) }));

/** The shard that owns remainder `r` by the slots, as ClickHouse routes an insert. */
const ownerOf = (slots: ReturnType<typeof shardSlots>, r: number) => slots.find((s) => r >= s.from && r < s.to)?.num;

describe('the rows a shard owns (Distributed insert routing)', () => {
  test('weights 1 and 2: remainder 0 goes to shard 1, remainders 1 and 2 to shard 2', () => {
    const slots = shardSlots(shards(1, 2));
    expect(slots).toEqual([
      { num: 1, from: 0, to: 1, total: 3 },
      { num: 2, from: 1, to: 3, total: 3 },
    ]);
    expect([0, 1, 2].map((r) => ownerOf(slots, r))).toEqual([1, 2, 2]);
  });

  test('weights 9 and 10, listed out of order: shard 1 owns 0–8, shard 2 owns 9–18', () => {
    const slots = shardSlots([...shards(9, 10)].reverse());
    expect(slots.map((s) => [s.num, s.from, s.to, s.total])).toEqual([
      [1, 0, 9, 19],
      [2, 9, 19, 19],
    ]);
  });

  test('a shard of weight 0 owns no remainder; a profile without weights counts each shard as 1', () => {
    expect(shardSlots(shards(1, 0, 1)).map((s) => s.to - s.from)).toEqual([1, 0, 1]);
    expect(shardSlots(shards(undefined, undefined)).map((s) => [s.from, s.to, s.total])).toEqual([
      [0, 1, 2],
      [1, 2, 2],
    ]);
  });

  test("the condition takes the key as unsigned of its width, modulo the total weight, within the shard's range", () => {
    const owns = shardOwnsRows(parseExpression('cityHash64(user_id)'), shards(1, 2), 2);
    expect(owns.where).toBe(
      '(reinterpretAsUInt64(cityHash64(`user_id`)) % {shard_weights:UInt64}) >= {shard_slot_from:UInt64} AND ' +
        '(reinterpretAsUInt64(cityHash64(`user_id`)) % {shard_weights:UInt64}) < {shard_slot_to:UInt64}',
    );
    expect(owns.params).toEqual({ shard_weights: 3, shard_slot_from: 1, shard_slot_to: 3 });
  });

  test('a key calling rand() or now() is found not deterministic; cityHash64(user_id) is', () => {
    expect(nondeterministicCall(parseExpression('rand()'))).toBe('rand');
    expect(nondeterministicCall(parseExpression('cityHash64(user_id) + toUInt64(now())'))).toBe('now');
    expect(nondeterministicCall(parseExpression('cityHash64(user_id)'))).toBeUndefined();
  });
});

const server = (shardingKey: string, viewTargetEngine = 'ReplicatedSummingMergeTree(…)'): ServerProfile => ({
  topology: 'sharded-cluster',
  version: '26.7.2.11',
  hosts: ['ch-s1-r1'],
  databaseEngines: { default: 'Atomic' },
  tableEngines: { 'default.events': 'Distributed' },
  clusters: [{ name: 'main', shards: 2, replicas: 2 }],
  patchPartitions: {},
  sharding: {
    name: 'main',
    databaseEngine: 'Atomic',
    shards: shards(1, 2),
    distributed: {
      'default.events': { cluster: 'main', local: { database: 'default', name: 'events_local' }, shardingKey },
    },
    engines: {
      'default.events_local': "ReplicatedMergeTree('/p', '{replica}') ORDER BY ts",
      'default.by_host_local': viewTargetEngine,
    },
  },
});
const events = { database: 'default', name: 'events' };
const byHost = { database: 'default', name: 'by_host_local' };

describe('a sharded import, checked before any DDL', () => {
  test('is refused when the sharding key calls rand(), naming the table, the key and rand()', () => {
    expect(() => checkShardedImport(server('rand()'), events, [byHost])).toThrow(
      /target\.table: default\.events is sharded by rand\(\), which calls rand\(\): not deterministic/,
    );
  });

  test('is refused when a view target behind it is not replicated, naming it and its engine', () => {
    expect(() =>
      checkShardedImport(server('cityHash64(user_id)', 'SummingMergeTree ORDER BY host'), events, [byHost]),
    ).toThrow(/default\.by_host_local, behind default\.events, is SummingMergeTree ORDER BY host/);
  });

  test('passes a deterministic key over replicated local tables; the shard task then filters its rows', () => {
    const profile = server('cityHash64(user_id)');
    expect(() => checkShardedImport(profile, events, [byHost])).not.toThrow();
    const onShard1 = shardRowsOf(
      { ...profile, shard: profile.sharding!.shards[0] },
      profile.sharding!.distributed['default.events'].local,
    );
    expect(onShard1?.params).toEqual({ shard_weights: 3, shard_slot_from: 0, shard_slot_to: 1 });
    expect(shardRowsOf(profile, { database: 'default', name: 'events_local' })).toBeUndefined();
  });
});
