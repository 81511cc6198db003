import {
  engineFamily,
  engineFamilyArguments,
  isLocalMergeTree,
  isMergeTreeFamily,
  isReplicatedEngine,
  isSharedEngine,
} from '../../src/clickhouse/engine-family';
import { targetChecks } from '../../src/sql/import/import';

describe('engine families', () => {
  it.each([
    ['SummingMergeTree', 'SummingMergeTree', false, false],
    ['ReplicatedSummingMergeTree', 'SummingMergeTree', true, false],
    ['SharedSummingMergeTree', 'SummingMergeTree', false, true],
    ['MergeTree', 'MergeTree', false, false],
    ['ReplicatedMergeTree', 'MergeTree', true, false],
    ['SharedMergeTree', 'MergeTree', false, true],
    ['SharedAggregatingMergeTree', 'AggregatingMergeTree', false, true],
    ['ReplacingMergeTree', 'ReplacingMergeTree', false, false],
    ['ReplicatedReplacingMergeTree', 'ReplacingMergeTree', true, false],
  ])('%s is of the %s family (replicated %s, shared %s)', (engine, family, replicated, shared) => {
    expect(engineFamily(engine)).toBe(family);
    expect(isMergeTreeFamily(engine)).toBe(true);
    expect(isReplicatedEngine(engine)).toBe(replicated);
    expect(isSharedEngine(engine)).toBe(shared);
    expect(isLocalMergeTree(engine)).toBe(!replicated && !shared);
  });

  it.each(['Memory', 'Null', 'Distributed', 'View', 'MaterializedView', 'Replicated', 'Log'])(
    '%s is not of the MergeTree family',
    (engine) => {
      expect(isMergeTreeFamily(engine)).toBe(false);
      expect(isLocalMergeTree(engine)).toBe(false);
      expect(engineFamily(engine)).toBe(engine);
    },
  );

  it("drops a Replicated or Shared engine's Keeper path and replica name from its arguments", () => {
    expect(engineFamilyArguments('SummingMergeTree ORDER BY k')).toEqual([]);
    expect(engineFamilyArguments('SummingMergeTree((a, b)) ORDER BY k')).toEqual(['(a, b)']);
    expect(
      engineFamilyArguments("SharedSummingMergeTree('/clickhouse/tables/{uuid}/{shard}', '{replica}') ORDER BY k"),
    ).toEqual([]);
    expect(
      engineFamilyArguments("ReplicatedSummingMergeTree('/t/{uuid}/{shard}', '{replica}', (a, b)) ORDER BY k"),
    ).toEqual(['(a, b)']);
    expect(engineFamilyArguments("ReplicatedReplacingMergeTree('/t, x', '{replica}', version)")).toEqual(['version']);
  });
});

describe('import validation on Cloud and replicated targets', () => {
  const table = { database: 'db', name: 't' };
  const columns = [
    { name: 'day', type: 'Date', is_in_sorting_key: 1 },
    { name: 'n', type: 'UInt64', is_in_sorting_key: 0 },
  ];
  const cloud = "SharedSummingMergeTree('/clickhouse/tables/{uuid}/{shard}', '{replica}') ORDER BY day";

  it('compares a SharedSummingMergeTree target like a SummingMergeTree one', () => {
    const plain = targetChecks(
      table,
      'SummingMergeTree',
      'SummingMergeTree ORDER BY day',
      columns,
      [['day', 'n']],
      false,
    );
    const shared = targetChecks(table, 'SharedSummingMergeTree', cloud, columns, [['day', 'n']], false);
    expect(shared.totals).toEqual(plain.totals);
    expect(shared.totals).toEqual([{ column: 'n', read: 'sum' }]);
  });

  it('still refuses to compare a Replicated summing target that lists its columns', () => {
    const listed = "ReplicatedSummingMergeTree('/t/{uuid}', '{replica}', (n)) ORDER BY day";
    expect(targetChecks(table, 'ReplicatedSummingMergeTree', listed, columns, [['day', 'n']], false).note).toMatch(
      /summing only the columns it lists/,
    );
  });

  it('compares rows of a row-wise SharedMergeTree target', () => {
    expect(
      targetChecks(table, 'SharedMergeTree', 'SharedMergeTree ORDER BY day', columns, [['day', 'n']], true),
    ).toMatchObject({ rows: true });
  });
});
