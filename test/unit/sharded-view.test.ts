import { viewJobSchema } from '../../src/shared/job-spec';
import { partitionLockId } from '../../src/shared/partition-lock';
import type { ViewPartitionTask } from '../../src/shared/partition-task';
import type { ServerProfile } from '../../src/shared/server-profile';
import { partitionsPerShard } from '../../src/shared/shard-partitions';
import { shardedViewTask } from '../../src/shared/view-partition-task';
import { checkShardedView } from '../../src/activities/view/sharded-view-check';
import { creationStatements } from '../../src/activities/view/plan-view';
import { dialectOf } from '../../src/sql/engine/server-dialect';
import { runPartition } from '../helpers/scripted-clickhouse';
import { distributedTables, scriptedShardedCluster, type RoutedStatement } from '../helpers/sharded-cluster';
import { PARTITION } from '../helpers/topology-jobs';
import { recordedProfile } from '../helpers/recorded-profile';
import {
  checkedOnEveryReplica,
  ddlViolations,
  isWrite,
  syncedSinceLastWrite,
  tableOf,
} from '../helpers/sharded-violations';

/**
 * Statement-level tests of a view job's partition task on topology 3 (several shards behind `Distributed` tables),
 * from the recorded sharded profiles in an Atomic database (DDL `ON CLUSTER`) and a Replicated one: each partition
 * runs once per shard, each statement recorded with the client it went through (`main` or `shard <n>`). No server or
 * Keeper runs here: these check what the tool sends, and each failure mode is shown to be found when introduced
 * into what was sent: the live view on every shard's local source, each (partition, shard)'s fill, move and checks.
 */

const SHARDED = [
  ['sharded-cluster (Atomic, ON CLUSTER main)', recordedProfile('sharded-cluster')],
  ['sharded-database-cluster (Replicated database)', recordedProfile('sharded-database-cluster')],
] as const;

const CUTOFF = 1_706_745_600;

const viewJob = (db: string) =>
  viewJobSchema.parse({
    kind: 'view',
    source: { table: `${db}.events`, timeColumn: 'ts' },
    target: { table: `${db}.events_daily`, engine: 'SummingMergeTree', partitionBy: 'month' },
    view: { name: 'events_daily_mv' },
    groupBy: { hour: 'toStartOfHour(ts)', host: 'host' },
    aggregates: { events: 'count()', ctr: 'sum(ctr)' },
  });

/** The table a fill reads: named in its SELECT text (the view's query, rendered through the quoting helper). */
const fillSource = (s: RoutedStatement) => {
  const m = /FROM `([^`]+)`\.`([^`]+)`/.exec(s.query);
  return m ? `${m[1]}.${m[2]}` : 'none';
};

/**
 * The failure modes of one (partition, shard) of a sharded view job found in what was sent, as words: a CTAS; a
 * shadow created in another database than the local target's; `ON CLUSTER` inside a Replicated database, or DDL
 * without it in an Atomic one; DDL not read per host; a write sent to another client than the task's shard; the
 * fill reading another table than the shard's local source; a MOVE not preceded, since the last write on that
 * shard, by a sync of the shadow on that shard, or sent without `alter_sync = 3`; a shadow moved out of and not
 * then checked on every replica of that shard.
 */
function viewViolations(sent: RoutedStatement[], server: ServerProfile, shard: number, local: string): string[] {
  const found: string[] = [];
  const on = `shard ${shard}`;
  const db = local.split('.')[0];
  sent.forEach((s, i) => {
    found.push(...ddlViolations(s, i, server));
    if (/^CREATE TABLE \{table_db/.test(s.query) && s.params.table_db !== db)
      found.push(`${i}: created in another database`);
    if (isWrite(s.query) && s.on !== on)
      found.push(`${i}: ${s.query.split(' ').slice(0, 2).join(' ')} sent to ${s.on}`);
    if (/^INSERT INTO \{into_db/.test(s.query) && fillSource(s) !== local)
      found.push(`${i}: the fill reads ${fillSource(s)}, not ${local}`);
    if (/MOVE PARTITION/.test(s.query)) {
      const moved = tableOf(s, 'shadow');
      if (!syncedSinceLastWrite(sent, i, moved)) found.push(`${i}: MOVE not preceded by a sync of ${moved} on ${s.on}`);
      if (!/SETTINGS alter_sync = 3$/.test(s.query) && s.settings?.alter_sync !== 3)
        found.push(`${i}: MOVE without alter_sync = 3`);
      if (!checkedOnEveryReplica(sent, i, server, shard, moved))
        found.push(`${i}: ${moved} not checked on every replica of ${on} after the move`);
    }
  });
  return found;
}

/** What was sent, each statement as its verb and object, writes and DDL only. */
function outline(sent: RoutedStatement[]): string[] {
  return sent.flatMap((s) => {
    const named = s.params.table_db !== undefined ? tableOf(s, 'table') : s.params.into ? tableOf(s, 'into') : '';
    const short = (s.params.shadow ? tableOf(s, 'shadow') : named).split('.')[1] ?? '';
    if (/^DROP VIEW/.test(s.query)) return [`drop view ${String(s.params.view)}`];
    if (/^DROP TABLE/.test(s.query)) return [`drop ${short}`];
    if (/^CREATE TABLE/.test(s.query)) return [`create ${short}`];
    if (/^TRUNCATE/.test(s.query)) return [`truncate ${short}`];
    if (/^INSERT INTO \{into_db/.test(s.query)) return [`fill ${short} from ${fillSource(s).split('.')[1]}`];
    const sync = /^SYSTEM SYNC REPLICA `\w+`\.`(\w+)`/.exec(s.query);
    if (sync) return [`sync ${sync[1]}`];
    const move = /MOVE PARTITION ID \{partition_id:String\} TO TABLE `\w+`\.`(\w+)`/.exec(s.query);
    if (move) return [`move ${short} to ${move[1]}`];
    return [];
  });
}

describe.each(SHARDED)('%s', (_name, server) => {
  const tables = distributedTables(server);
  const db = tables.target.database;
  const job = viewJob(db);
  const plan = { ...tables, server };
  const partitions = partitionsPerShard([PARTITION], server.sharding!.shards);

  test('a partition becomes one task per shard on the local tables, with its own shadow and lock', () => {
    expect(partitions.map((p) => [p.id, p.shard])).toEqual([
      ['202401@1', 1],
      ['202401@2', 2],
    ]);
    for (const partition of partitions) {
      const task = shardedViewTask(job, plan, partition, 'w1', CUTOFF)!;
      expect(task.source).toEqual({ database: db, name: 'events_local' });
      expect(task.target).toEqual({ database: db, name: 'events_daily_local' });
      expect(task.shadow).toEqual({ database: db, name: `events_daily_local_v2_202401_s${partition.shard}_w1` });
      expect(task.partition.id).toBe('202401');
      expect(task.build).toEqual({ kind: 'view-fill', cutoff: CUTOFF });
      expect(task.server?.shard?.num).toBe(partition.shard);
      expect(partitionLockId(task.target, task.partition.id, task.server?.shard?.num)).toBe(
        `partition:${db}.events_daily_local/202401@${partition.shard}`,
      );
    }
    expect(shardedViewTask(job, plan, PARTITION, 'w1', CUTOFF)).toBeUndefined();
  });

  describe.each([1, 2])('shard %i of partition 202401', (shard) => {
    const task: ViewPartitionTask = shardedViewTask(job, plan, partitions[shard - 1], 'w1', CUTOFF)!;
    const local = `${db}.events_local`;
    let sent: RoutedStatement[];
    beforeAll(async () => {
      const cluster = scriptedShardedCluster(server);
      await runPartition(cluster.ch, task, { shardClient: cluster.shardClient });
      sent = cluster.sent;
    });

    test('sends its statements in order, every write through the shard', () => {
      const shadow = `events_daily_local_v2_202401_s${shard}_w1`;
      // A ranged fill has no Null-fill helpers to drop; the build is fresh: no truncate.
      const drops = [`drop ${shadow}`];
      expect(outline(sent)).toEqual([
        ...drops,
        `create ${shadow}`,
        `fill ${shadow} from events_local`,
        `sync ${shadow}`,
        `sync ${shadow}`,
        `move ${shadow} to events_daily_local`,
        ...drops,
      ]);
      expect(sent.filter((s) => isWrite(s.query)).every((s) => s.on === `shard ${shard}`)).toBe(true);
      expect(sent.some((s) => s.on === `shard ${3 - shard}`)).toBe(false);
    });

    test("fills the shadow from the shard's local source rows before the cutoff, finding no violation", () => {
      const fill = sent.find((s) => /^INSERT INTO \{into_db/.test(s.query))!;
      expect(fill.params).toMatchObject({ into: task.shadow.name });
      expect(fillSource(fill)).toBe(`${db}.events_local`);
      expect(fill.params.cutoff).toBe(CUTOFF);
      expect(viewViolations(sent, server, shard, local)).toEqual([]);
    });

    test('each failure mode is found when introduced', () => {
      const at = (re: RegExp) => sent.findIndex((s) => re.test(s.query));
      const replaced = (i: number, s: Partial<RoutedStatement>) => sent.map((x, j) => (j === i ? { ...x, ...s } : x));
      const found = (mutated: RoutedStatement[]) => viewViolations(mutated, server, shard, local).join('; ');
      const fill = at(/^INSERT INTO \{into_db/);
      // The fill through the other shard's client: this shard's shadow stays empty, the other's gets its rows.
      expect(found(replaced(fill, { on: `shard ${3 - shard}` }))).toMatch(/INSERT INTO sent to shard/);
      // The fill through the Distributed source: every shard's shadow would get every shard's rows.
      const distributed = sent[fill].query.replace(/`events_local`/g, '`events`');
      expect(found(replaced(fill, { query: distributed }))).toMatch(/the fill reads .*\.events, not/);
      const move = at(/MOVE PARTITION/);
      const moved = `\`${db}\`.\`${String(sent[move].params.shadow)}\``;
      const unsynced = sent.filter((s, j) => !(j < move && s.query === `SYSTEM SYNC REPLICA ${moved} LIGHTWEIGHT`));
      expect(found(unsynced)).toMatch(/MOVE not preceded by a sync/);
      const unsettled = sent[move].query.replace(/ SETTINGS alter_sync = 3$/, '');
      expect(found(replaced(move, { query: unsettled, settings: {} }))).toMatch(/MOVE without alter_sync = 3/);
      expect(found(replaced(move, { on: 'main' }))).toMatch(/ALTER TABLE sent to main/);
      const create = at(/^CREATE TABLE \{table_db/);
      expect(found(replaced(create, { query: `${sent[create].query} AS SELECT * FROM x` }))).toMatch(/AS SELECT/);
      expect(found(replaced(create, { params: { ...sent[create].params, table_db: 'other' } }))).toMatch(
        /created in another database/,
      );
      const drop = at(/^DROP TABLE/);
      const dropQuery = sent[drop].query;
      if (server.sharding!.databaseEngine === 'Atomic') {
        expect(found(replaced(drop, { query: dropQuery.replace(/ ON CLUSTER `\w+`/, '') }))).toMatch(
          /DDL without ON CLUSTER/,
        );
      } else {
        expect(found(replaced(drop, { query: dropQuery.replace(/ SYNC$/, ' ON CLUSTER `rdb` SYNC') }))).toMatch(
          /ON CLUSTER in a Replicated database/,
        );
      }
    });
  });
});

/**
 * The failure modes of the live view's CREATE on a sharded cluster, as words: without `ON CLUSTER` in an Atomic
 * database (one shard's local source alone would feed its view), with it in a Replicated one, reading another
 * source than the local one, or writing another target than the local one.
 */
function liveViewViolations(query: string, server: ServerProfile, db: string): string[] {
  const found: string[] = [];
  const onCluster = / ON CLUSTER /.test(query);
  if (server.sharding!.databaseEngine === 'Atomic' && !onCluster) found.push('live view not ON CLUSTER');
  if (server.sharding!.databaseEngine === 'Replicated' && onCluster) found.push('ON CLUSTER in a Replicated database');
  if (!query.includes(`FROM \`${db}\`.\`events_local\``)) found.push('the view reads another source');
  if (!query.includes(` TO \`${db}\`.\`events_daily_local\``)) found.push('the view writes another target');
  return found;
}

describe.each(SHARDED)('%s: the plan and the live view', (_name, server) => {
  const tables = distributedTables(server);
  const db = tables.target.database;
  const job = viewJob(db);
  const sharding = server.sharding!;
  const local = {
    source: { database: db, name: 'events_local' },
    target: { database: db, name: 'events_daily_local' },
  };
  const withTarget = (engine: string | undefined): ServerProfile => {
    const { [`${db}.events_daily_local`]: _own, ...engines } = sharding.engines;
    return {
      ...server,
      tableEngines: {},
      sharding: { ...sharding, engines: engine ? { ...engines, [`${db}.events_daily_local`]: engine } : engines },
    };
  };

  test('the job runs on the local tables behind its Distributed source and target', () => {
    expect(checkShardedView(server, job, tables)).toEqual(local);
  });

  test('a target that is not Distributed, or whose local table is not Replicated, is refused naming it', () => {
    expect(() =>
      checkShardedView(server, job, { ...tables, target: { database: db, name: 'events_daily_local' } }),
    ).toThrow(new RegExp(`^target\\.table: .*${db}\\.events_daily_local is not a Distributed table`));
    expect(() => checkShardedView(server, job, { ...tables, source: { database: db, name: 'events_local' } })).toThrow(
      new RegExp(`^source\\.table: .*${db}\\.events_local is not a Distributed table`),
    );
    expect(() => checkShardedView(withTarget('SummingMergeTree ORDER BY hour'), job, tables)).toThrow(
      new RegExp(`^target\\.table: ${db}\\.events_daily_local, behind ${db}\\.events_daily, is SummingMergeTree`),
    );
    expect(() => checkShardedView(withTarget(undefined), job, tables)).toThrow(/is missing: a view job's target/);
  });

  test('a Null fill and a view given as SQL are refused naming them', () => {
    expect(() => checkShardedView(server, { ...job, fill: 'null' }, tables)).toThrow(
      /^fill: fill: null is not supported/,
    );
    const sql = { ...job, select: `SELECT host FROM ${db}.events` };
    expect(() => checkShardedView(server, sql, tables)).toThrow(/^select: a view given as SQL is not supported/);
  });

  test("the live view is created on every shard's local source, writing its local target", () => {
    const view = { database: db, name: 'events_daily_mv' };
    const { target, view: create } = creationStatements(job, { ...local, view }, CUTOFF, dialectOf(server));
    expect(target).toBeUndefined();
    const head = create.query.split('\n')[0];
    expect(create.query).toContain(`FROM \`${db}\`.\`events_local\``);
    expect(create.query).toContain(`toDateTime(${CUTOFF})`);
    expect(liveViewViolations(create.query, server, db)).toEqual([]);
    const found = (query: string) => liveViewViolations(query, server, db).join('; ');
    if (sharding.databaseEngine === 'Atomic') {
      expect(found(create.query.replace(/ ON CLUSTER `\w+`/, ''))).toMatch(/live view not ON CLUSTER/);
    } else {
      expect(found(create.query.replace(' TO ', ' ON CLUSTER `rdb` TO '))).toMatch(/ON CLUSTER in a Replicated/);
    }
    expect(found(create.query.replace('`events_local`', '`events`'))).toMatch(/reads another source/);
    expect(found(create.query.replace('`events_daily_local`', '`events_daily`'))).toMatch(/writes another target/);
    if (sharding.databaseEngine === 'Atomic') {
      expect(head).toBe(
        `CREATE MATERIALIZED VIEW IF NOT EXISTS \`${db}\`.\`events_daily_mv\` ON CLUSTER \`${sharding.name}\` TO \`${db}\`.\`events_daily_local\``,
      );
    } else {
      expect(head).toBe(
        `CREATE MATERIALIZED VIEW IF NOT EXISTS \`${db}\`.\`events_daily_mv\` TO \`${db}\`.\`events_daily_local\``,
      );
    }
  });
});
