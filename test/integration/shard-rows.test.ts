import type { ClickHouse } from '../../src/clickhouse/clickhouse';
import type { Statement } from '../../src/clickhouse/statement';
import { parseExpression } from '../../src/shared/expression-syntax';
import type { ShardHosts } from '../../src/shared/server-profile';
import { shardOwnsRows, shardSlots } from '../../src/sql/engine/shard-rows';
import { freshDatabase, openTestClickHouse } from '../helpers/chdb-env';

/**
 * The condition selecting a shard's rows, run by the embedded engine over keys of every width and sign, against
 * the routing of a `Distributed` insert computed here: a signed key is taken as the unsigned value of its width
 * (ClickHouse's createBlockSelector), its remainder by the total weight mapped to the shard whose range holds it.
 */
describe('the rows a shard owns, evaluated by ClickHouse', () => {
  let ch: ClickHouse;
  let db: string;
  const shards: ShardHosts[] = [
    { num: 1, hosts: ['a'], weight: 1 },
    { num: 2, hosts: ['b'], weight: 2 },
    { num: 3, hosts: ['c'], weight: 4 },
  ];
  const VALUES = [0, 1, 2, 3, 6, 7, 100, -1, -2, -7, -128, 127, 2147483647, -2147483648];

  beforeAll(async () => {
    ch = openTestClickHouse();
    db = await freshDatabase(ch, 'shard_rows');
    await ch.exec({
      query: `CREATE TABLE ${db}.k (i8 Int8, i32 Int32, i64 Int64, u64 UInt64) ENGINE = MergeTree ORDER BY tuple()`,
      params: {},
    });
    await ch.exec({
      query: `INSERT INTO ${db}.k SELECT toInt8(v), toInt32(v), toInt64(v), toUInt64(toInt64(v)) FROM (SELECT arrayJoin({v:Array(Int64)}) AS v)`,
      params: { v: VALUES },
    });
  });
  afterAll(() => ch.close());

  test.each([
    ['i8', 8, true],
    ['i32', 32, true],
    ['i64', 64, true],
    ['u64', 64, false],
  ] as const)(
    'column %s: every row selected by exactly the shard an insert routes it to',
    async (column, width, signed) => {
      const slots = shardSlots(shards);
      // The value as the column stores it, and the shard an insert routes it to (its bits as unsigned, modulo 7).
      const stored = (v: number) => (signed ? BigInt.asIntN(width, BigInt(v)) : BigInt.asUintN(width, BigInt(v)));
      const routed = (v: number) => {
        const r = Number(BigInt.asUintN(width, stored(v)) % BigInt(slots[0].total));
        return slots.find((s) => r >= s.from && r < s.to)!.num;
      };
      const seen: string[] = [];
      for (const shard of shards) {
        const owns = shardOwnsRows(parseExpression(column), shards, shard.num);
        const selected: Statement<{ v: string }> = {
          query: `SELECT toString(${column}) AS v FROM ${db}.k WHERE ${owns.where}`,
          params: owns.params,
        };
        const rows = await ch.rows(selected);
        const want = VALUES.filter((v) => routed(v) === shard.num).map((v) => String(stored(v)));
        expect(rows.map((r) => r.v).sort()).toEqual(want.sort());
        seen.push(...rows.map((r) => r.v));
      }
      expect(seen).toHaveLength(VALUES.length);
    },
  );
});
