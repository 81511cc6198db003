import type { ClickHouse } from '../../src/clickhouse/clickhouse';
import type { Statement } from '../../src/clickhouse/statement';
import { filePlanning } from '../../src/activities/import/plan-file-import';
import { importJobSchema } from '../../src/shared/job-spec';
import type { ImportPlan } from '../../src/shared/import-input';
import { shardedImportTask } from '../../src/shared/import-batch-task';
import { partitionLockId } from '../../src/shared/partition-lock';
import type { ImportPartitionTask } from '../../src/shared/partition-task';
import type { ServerProfile } from '../../src/shared/server-profile';
import { partitionsPerShard } from '../../src/shared/shard-partitions';
import type { TableRef } from '../../src/shared/table-ref';
import { runPartition } from '../helpers/scripted-clickhouse';
import { scriptedShardedCluster, type RoutedStatement } from '../helpers/sharded-cluster';
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
 * Statement-level tests of an import from a table on topology 3 (several shards behind `Distributed` tables), from
 * the recorded sharded profiles in an Atomic database (DDL `ON CLUSTER`) and a Replicated one: a batch runs once per
 * shard, each statement recorded with the client it went through (`main` or `shard <n>`). No server or Keeper runs
 * here: these check what the tool sends, and each failure mode of docs/clusters.md is shown to be found when
 * introduced into what was sent.
 */

/** The recorded profile with the import's view target behind the Distributed target (it exists, replicated). */
function withViewTarget(server: ServerProfile): ServerProfile {
  const sharding = server.sharding!;
  const db = sharding.distributed[Object.keys(sharding.distributed)[0]].local.database;
  const path =
    sharding.databaseEngine === 'Atomic'
      ? `'/clickhouse/tables/{shard}/${db}/events_by_host_local'`
      : "'/clickhouse/tables/{uuid}/{shard}'";
  return {
    ...server,
    sharding: {
      ...sharding,
      engines: {
        ...sharding.engines,
        [`${db}.events_by_host_local`]: `ReplicatedSummingMergeTree(${path}, '{replica}') ORDER BY host SETTINGS index_granularity = 8192`,
      },
    },
  };
}

const SHARDED = [
  ['sharded-cluster (Atomic, ON CLUSTER main)', withViewTarget(recordedProfile('sharded-cluster'))],
  ['sharded-database-cluster (Replicated database)', withViewTarget(recordedProfile('sharded-database-cluster'))],
] as const;

/** An import plan as planImport makes it on `server`: the Distributed target, the local view target, per-shard batches. */
function shardedPlan(server: ServerProfile): { plan: ImportPlan; db: string } {
  const db = Object.keys(server.sharding!.distributed)[0].split('.')[0];
  const byHost: TableRef = { database: db, name: 'events_by_host_local' };
  const batch = { ...PARTITION, fromMicros: 1_704_067_200_000_000, toMicros: 1_706_745_600_000_000 };
  return {
    db,
    plan: {
      source: { database: db, name: 'events_history' },
      target: { database: db, name: 'events' },
      checkpoint: 1_706_745_600_000_000,
      partitionKey: 'toYYYYMM(ts)',
      columns: ['ts', 'user_id', 'host', 'ctr'],
      views: [
        {
          view: { database: db, name: 'events_by_host_local_mv' },
          target: byHost,
          select: `SELECT host, count() AS n FROM ${db}.events_local GROUP BY host`,
        },
      ],
      targets: [{ table: byHost, engine: 'ReplicatedSummingMergeTree', rows: false, totals: [] }],
      batches: partitionsPerShard([batch], server.sharding!.shards),
      server,
    },
  };
}

const importJob = (db: string) =>
  importJobSchema.parse({
    kind: 'import',
    name: 'events_history',
    target: { table: `${db}.events`, timeColumn: 'ts' },
    source: { table: `${db}.events_history` },
    checkpoint: 'auto',
  });

/** The sharding key of the recorded profiles as the fill must evaluate it on a history row. */
const REMAINDER = 'reinterpretAsUInt64(cityHash64(`user_id`)) % {shard_weights:UInt64}';

/** The remainders of `key % 2` shard `shard` owns in the recorded profiles (two shards of weight 1). */
const slotOf = (shard: number) => ({ shard_weights: 2, shard_slot_from: shard - 1, shard_slot_to: shard });

/** The table a CREATE or DROP names: a `{table_db}`/`{view_db}` parameter, or its allow-listed quoted name. */
function objectOf(s: RoutedStatement): string | undefined {
  if (s.params.table_db !== undefined) return tableOf(s, 'table');
  if (s.params.view_db !== undefined) return tableOf(s, 'view');
  const m = /^(?:CREATE|DROP) (?:TABLE|VIEW|MATERIALIZED VIEW) (?:IF (?:NOT )?EXISTS )?`(\w+)`\.`(\w+)`/.exec(s.query);
  return m ? `${m[1]}.${m[2]}` : undefined;
}

/**
 * The failure modes of one (batch, shard) of a sharded import found in what was sent, as words: a CTAS; a duplicate
 * or view copy created in another database than the local target's; `ON CLUSTER` inside a Replicated database, or
 * DDL (a create, or a DROP that must fan out to every shard) without it in an Atomic one; DDL not read per host; a
 * write sent to another client than the task's shard; the fill, or validation's count of the history, without the
 * filter of the rows this shard owns (or with another shard's remainders); a MOVE not preceded, since the last
 * write on that shard, by a sync of the table it moves out of on that shard; a duplicate moved out of and not then
 * checked on every replica of that shard.
 */
function importViolations(sent: RoutedStatement[], server: ServerProfile, shard: number, db: string): string[] {
  const found: string[] = [];
  const on = `shard ${shard}`;
  const ownRows = (s: RoutedStatement, what: string, i: number) => {
    const slot = slotOf(shard);
    const filtered =
      s.query.includes(`(${REMAINDER}) >= {shard_slot_from:UInt64}`) &&
      s.query.includes(`(${REMAINDER}) < {shard_slot_to:UInt64}`) &&
      Object.entries(slot).every(([k, v]) => s.params[k] === v);
    if (!filtered) found.push(`${i}: ${what} without the rows of ${on} alone`);
  };
  sent.forEach((s, i) => {
    found.push(...ddlViolations(s, i, server));
    const object = objectOf(s);
    if (/^CREATE /.test(s.query) && object && !object.startsWith(`${db}.`))
      found.push(`${i}: created in another database`);
    if (isWrite(s.query) && s.on !== on)
      found.push(`${i}: ${s.query.split(' ').slice(0, 2).join(' ')} sent to ${s.on}`);
    if (/^INSERT INTO \{into_db/.test(s.query)) ownRows(s, 'the fill', i);
    if (/^SELECT toString\(count\(\)\) AS rows FROM \{source_db/.test(s.query)) ownRows(s, 'the history count', i);
    if (/^SELECT _path AS path, toString\(count\(\)\) AS rows/.test(s.query)) ownRows(s, 'the file count', i);
    if (/MOVE PARTITION/.test(s.query)) {
      const moved = tableOf(s, 'shadow');
      if (!syncedSinceLastWrite(sent, i, moved)) found.push(`${i}: MOVE not preceded by a sync of ${moved} on ${s.on}`);
      if (!checkedOnEveryReplica(sent, i, server, shard, moved))
        found.push(`${i}: ${moved} not checked on every replica of ${on} after the move`);
    }
  });
  return found;
}

/** What was sent, each statement as its verb and object (`MOVE events_local_v2_…`), writes and DDL only. */
function outline(sent: RoutedStatement[]): string[] {
  return sent.flatMap((s) => {
    const name = objectOf(s) ?? (s.params.shadow ? tableOf(s, 'shadow') : s.params.into ? tableOf(s, 'into') : '');
    const short = name.split('.')[1] ?? name;
    if (/^DROP VIEW/.test(s.query)) return [`drop view ${short}`];
    if (/^DROP TABLE/.test(s.query)) return [`drop ${short}`];
    if (/^CREATE MATERIALIZED VIEW/.test(s.query)) return [`create view ${short}`];
    if (/^CREATE TABLE/.test(s.query)) return [`create ${short}`];
    if (/^TRUNCATE/.test(s.query)) return [`truncate ${short}`];
    if (/^INSERT INTO \{into_db/.test(s.query)) return [`fill ${short}`];
    const sync = /^SYSTEM SYNC REPLICA `\w+`\.`(\w+)`/.exec(s.query);
    if (sync) return [`sync ${sync[1]}`];
    const move = /MOVE PARTITION ID \{partition_id:String\} TO TABLE `\w+`\.`(\w+)`/.exec(s.query);
    if (move) return [`move ${short} to ${move[1]}`];
    return [];
  });
}

describe.each(SHARDED)('%s', (_name, server) => {
  const { plan, db } = shardedPlan(server);
  const job = importJob(db);

  test('the plan lists one batch per (partition, shard), each a task on the local tables under its own lock', () => {
    expect(plan.batches.map((b) => [b.id, b.shard])).toEqual([
      ['202401@1', 1],
      ['202401@2', 2],
    ]);
    for (const batch of plan.batches) {
      const task = shardedImportTask(job, plan, batch, 'w1')!;
      expect(task.target).toEqual({ database: db, name: 'events_local' });
      expect(task.shadow.name).toBe(`events_local_v2_202401_s${batch.shard}_w1`);
      expect(task.duplicates.targets.map((t) => t.copy.name)).toEqual([
        `events_by_host_local_v2_202401_s${batch.shard}_w1`,
      ]);
      expect(task.partition.id).toBe('202401');
      expect(task.server?.shard?.num).toBe(batch.shard);
      expect(partitionLockId(task.target, task.partition.id, task.server?.shard?.num)).toBe(
        `partition:${db}.events_local/202401@${batch.shard}`,
      );
    }
  });

  describe.each([1, 2])('shard %i of batch 202401', (shard) => {
    const task: ImportPartitionTask = shardedImportTask(job, plan, plan.batches[shard - 1], 'w1')!;
    let sent: RoutedStatement[];
    beforeAll(async () => {
      const cluster = scriptedShardedCluster(server);
      await runPartition(cluster.ch, task, { shardClient: cluster.shardClient });
      sent = cluster.sent;
    });

    test('sends its statements in order, every write through the shard', () => {
      const main = `events_local_v2_202401_s${shard}_w1`;
      const byHost = `events_by_host_local_v2_202401_s${shard}_w1`;
      const view = `events_by_host_local_mv_v2_202401_s${shard}_w1`;
      const drops = [`drop view ${view}`, `drop ${main}`, `drop ${byHost}`];
      expect(outline(sent)).toEqual([
        ...drops,
        `create ${main}`,
        `create ${byHost}`,
        `create view ${view}`,
        `truncate ${main}`,
        `truncate ${byHost}`,
        `fill ${main}`,
        `sync ${main}`,
        `sync ${byHost}`,
        `sync ${byHost}`,
        `move ${byHost} to events_by_host_local`,
        `sync ${main}`,
        `move ${main} to events_local`,
        ...drops,
      ]);
      expect(sent.filter((s) => isWrite(s.query)).every((s) => s.on === `shard ${shard}`)).toBe(true);
      expect(sent.some((s) => s.on === `shard ${3 - shard}`)).toBe(false);
    });

    test("fills the duplicate with the rows this shard owns by the Distributed table's sharding key", () => {
      const fill = sent.find((s) => /^INSERT INTO \{into_db/.test(s.query))!;
      expect(fill.query).toContain(`FROM {source_db:Identifier}.{source:Identifier}`);
      expect(fill.params).toMatchObject({ source: 'events_history', into: task.shadow.name, ...slotOf(shard) });
      expect(importViolations(sent, server, shard, db)).toEqual([]);
    });

    test('each failure mode is found when introduced', () => {
      const at = (re: RegExp) => sent.findIndex((s) => re.test(s.query));
      const replaced = (i: number, s: Partial<RoutedStatement>) => sent.map((x, j) => (j === i ? { ...x, ...s } : x));
      const fill = at(/^INSERT INTO \{into_db/);
      const found = (mutated: RoutedStatement[]) => importViolations(mutated, server, shard, db).join('; ');
      // No shard filter: every shard's duplicate would get the whole batch.
      const unfiltered = sent[fill].query.replace(/ AND \(\(reinterpretAsUInt64.*$/s, '');
      expect(found(replaced(fill, { query: unfiltered }))).toMatch(/the fill without the rows of shard/);
      // Another shard's remainders: this shard's duplicate filled with rows of the other shard.
      expect(found(replaced(fill, { params: { ...sent[fill].params, ...slotOf(3 - shard) } }))).toMatch(
        /the fill without the rows of shard/,
      );
      const move = at(/MOVE PARTITION/);
      // Every sync of the table moved out of dropped (after the fill and before the move).
      const moved = `\`${db}\`.\`${String(sent[move].params.shadow)}\``;
      const unsynced = sent.filter((s, j) => !(j < move && s.query === `SYSTEM SYNC REPLICA ${moved} LIGHTWEIGHT`));
      expect(found(unsynced)).toMatch(/MOVE not preceded by a sync/);
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

/** A file import's plan on `server`: the shardedPlan's tables, one batch of one file, per shard (as planImport). */
function shardedFilePlan(server: ServerProfile): { plan: ImportPlan; db: string } {
  const { plan, db } = shardedPlan(server);
  const file = { path: 'history/2024-01.parquet', size: 100, etag: '', mtime: 0 };
  const batch = {
    ...PARTITION,
    id: 'f0001',
    start: file.path,
    end: file.path,
    fromMicros: 0,
    toMicros: 0,
    files: [file],
    bytes: 100,
  };
  return {
    db,
    plan: {
      ...plan,
      source: { database: 's3', name: 'https://bucket/history/*.parquet' },
      batches: partitionsPerShard([batch], server.sharding!.shards),
      files: {
        reader: { fn: 's3', path: 'https://bucket/history/*.parquet', format: 'Parquet' },
        files: 1,
        bytes: 100,
        alreadyLoaded: 0,
        changed: [],
      },
    },
  };
}

describe.each(SHARDED)('%s, an import from files', (_name, server) => {
  const { plan, db } = shardedFilePlan(server);
  const job = importJobSchema.parse({
    ...importJob(db),
    source: { s3: 'https://bucket/history/*.parquet', format: 'Parquet' },
  });

  describe.each([1, 2])('shard %i of batch f0001', (shard) => {
    const task: ImportPartitionTask = shardedImportTask(job, plan, plan.batches[shard - 1], 'w1')!;
    let sent: RoutedStatement[];
    beforeAll(async () => {
      const cluster = scriptedShardedCluster(server);
      await runPartition(cluster.ch, task, { shardClient: cluster.shardClient });
      sent = cluster.sent;
    });

    test("fills the duplicate with the batch's file rows this shard owns, counts the same rows per file, through the shard", () => {
      expect(task.shadow.name).toBe(`events_local_v2_f0001_s${shard}_w1`);
      const fill = sent.find((s) => /^INSERT INTO \{into_db/.test(s.query))!;
      expect(fill.on).toBe(`shard ${shard}`);
      expect(fill.query).toMatch(/FROM s3\(/);
      expect(fill.params).toMatchObject({ batch_files: ['history/2024-01.parquet'], ...slotOf(shard) });
      const counts = sent.filter((s) => /^SELECT _path AS path, toString\(count\(\)\) AS rows/.test(s.query));
      expect(counts.length).toBeGreaterThan(0);
      expect(counts.every((s) => s.on === `shard ${shard}`)).toBe(true);
      expect(importViolations(sent, server, shard, db)).toEqual([]);
    });

    test('the ledger and the per-file counts are bookkeeping tables of the whole cluster', () => {
      const creates = sent.filter((s) => /^CREATE TABLE IF NOT EXISTS/.test(s.query));
      expect(creates.map((s) => [s.params.ledger ?? s.params.counts, /Replicated/.test(s.query)])).toEqual(
        expect.arrayContaining([
          ['_backfill_import_files', true],
          ['_backfill_import_file_counts', true],
        ]),
      );
      expect(sent.some((s) => /^INSERT INTO \{ledger_db/.test(s.query) && s.on === `shard ${shard}`)).toBe(true);
    });

    test("a fill or file count without the shard filter, or with the other shard's remainders, is found", () => {
      const found = (mutated: RoutedStatement[]) => importViolations(mutated, server, shard, db).join('; ');
      const replaced = (i: number, s: Partial<RoutedStatement>) => sent.map((x, j) => (j === i ? { ...x, ...s } : x));
      const fill = sent.findIndex((s) => /^INSERT INTO \{into_db/.test(s.query));
      const unfiltered = sent[fill].query.replace(/ AND \(\(reinterpretAsUInt64.*$/s, '');
      expect(found(replaced(fill, { query: unfiltered }))).toMatch(/the fill without the rows of shard/);
      expect(found(replaced(fill, { params: { ...sent[fill].params, ...slotOf(3 - shard) } }))).toMatch(
        /the fill without the rows of shard/,
      );
      const count = sent.findIndex((s) => /^SELECT _path AS path, toString\(count\(\)\) AS rows/.test(s.query));
      const uncounted = sent[count].query.replace(/ AND \(\(reinterpretAsUInt64[^\n]*< \{shard_slot_to:UInt64\}\)/, '');
      expect(found(replaced(count, { query: uncounted }))).toMatch(/the file count without the rows of shard/);
    });
  });
});

describe.each(SHARDED)('%s, the plan of an import from files', (_name, server) => {
  const { plan } = shardedPlan(server);
  const db = plan.target.database;
  const job = importJobSchema.parse({
    ...importJob(db),
    source: { s3: 'https://bucket/history/*.parquet', format: 'Parquet' },
  });
  const local = { database: db, name: 'events_local' };
  /** Lists one file and describes its columns; every other read is the injected checks'. */
  const ch = {
    rows: (st: Statement) =>
      Promise.resolve(
        /^DESCRIBE/.test(st.query)
          ? plan.columns.map((name) => ({ name, type: 'String' }))
          : [{ path: 'history/2024-01.parquet', size: '100', etag: '', mtime: 0 }],
      ),
  } as unknown as ClickHouse;
  const asked: { written: string[]; perShard?: boolean; columnsOf?: string; viewsOf?: string }[] = [];
  const planFiles = filePlanning(ch, {
    checkPlain: () => undefined,
    checkMain: () =>
      Promise.resolve({
        info: { partition_key: 'toYYYYMM(ts)' },
        columns: plan.columns.map((name) => ({ name, type: 'String', default_kind: '' })),
        local,
      }),
    checkpointOf: () => Promise.resolve(plan.checkpoint),
    viewsOf: (_ch, main) => {
      asked.push({ written: [], viewsOf: `${main.database}.${main.name}` });
      return Promise.resolve({ views: plan.views, targets: plan.targets });
    },
    serverOf: (_ch, _job, written, _read, options) => {
      asked.push({ written: written.map((t) => `${t.database}.${t.name}`), perShard: options.perShard });
      return Promise.resolve(server);
    },
  });

  test('reads the views of the local table, asks for a per-shard server check, plans the file batches', async () => {
    asked.length = 0;
    const planned = await planFiles(job, { s3: 'https://bucket/history/*.parquet', format: 'Parquet' }, 'all');
    expect(asked).toEqual([
      { written: [], viewsOf: `${db}.events_local` },
      { written: [`${db}.events`, `${db}.events_by_host_local`], perShard: true },
    ]);
    expect(planned.batches.map((b) => [b.id, b.files?.map((f) => f.path)])).toEqual([
      ['f0001', ['history/2024-01.parquet']],
    ]);
  });

  test.each(['missing', 'failed'] as const)('--only %s is refused, naming it', async (only) => {
    await expect(planFiles(job, { s3: 'https://bucket/history/*.parquet', format: 'Parquet' }, only)).rejects.toThrow(
      `source: --only ${only} on a sharded cluster: the ledger of loaded files does not record`,
    );
  });
});
