import { MockActivityEnvironment } from '@temporalio/testing';
import type { ClickHouse, RunOptions } from '../../src/clickhouse/clickhouse';
import type { Statement } from '../../src/clickhouse/statement';
import { describedImportBatch } from '../../src/activities/import/plan-import';
import type { ListedImportTask } from '../../src/activities/import/staged-batch-files';
import { describedViewPartition } from '../../src/activities/view/plan-view';
import { viewSnapshotSteps } from '../../src/activities/snapshot/view-snapshot';
import { latestLedgerEntries } from '../../src/activities/engine/ledger';
import { viewRestateJobSchema } from '../../src/shared/job-spec';
import type { PartitionTask, ViewRestatePartitionTask } from '../../src/shared/partition-task';
import type { ServerProfile } from '../../src/shared/server-profile';
import { dialectOf } from '../../src/sql/engine/server-dialect';
import { runPartition, scriptedClickHouse, type SentStatement } from '../helpers/scripted-clickhouse';
import { importTask, PARTITION, viewJob, viewTask } from '../helpers/topology-jobs';
import { backupTableFor, shadowTableFor } from '../../src/shared/writer-tables';
import { withViewTargets } from '../helpers/view-target-profiles';
import { recordedProfile } from '../helpers/recorded-profile';

/**
 * Statement-level tests of view, view-snapshot, import and view-restate jobs on topologies 1 (one shard, N
 * replicas, Atomic database: DDL `ON CLUSTER`) and 2 (a Replicated database: no `ON CLUSTER`), from the recorded
 * profiles. No server or Keeper runs here: these check what the tool sends, and each failure mode of
 * docs/clusters.md is shown to be found when introduced into what was sent.
 */

const CLUSTERS = [
  ['replicated-cluster (Atomic, ON CLUSTER main)', withViewTargets(recordedProfile('replicated-cluster'))],
  [
    'replicated-database-cluster (Replicated database)',
    withViewTargets(recordedProfile('replicated-database-cluster')),
  ],
] as const;

/** A view restate's partition of `default.daily` (a view over `default.events`), kept for rollback. */
function restateTask(): ViewRestatePartitionTask {
  const target = { database: 'default', name: 'daily' };
  return {
    job: viewRestateJobSchema.parse({
      kind: 'view-restate',
      view: 'default.daily_mv',
      writesEndBefore: '2024-04-01T00:00:00Z',
    }),
    source: { database: 'default', name: 'events' },
    target,
    shadow: shadowTableFor(target, PARTITION.id, 'w1'),
    partition: PARTITION,
    build: {
      kind: 'view-restate',
      select: 'SELECT toDate(ts) AS d, host, count() AS n FROM default.events GROUP BY d, host',
      columns: ['d', 'host', 'n'],
      partitionBy: { fn: 'toYYYYMM', column: 'd' },
      engine: 'MergeTree',
      orderBy: ['d', 'host'],
    },
    swap: 'replace',
    backup: backupTableFor(target, 'w1'),
  };
}

const KINDS = {
  view: viewTask,
  'view (Null-engine fill)': () => {
    const task = viewTask();
    return { ...task, job: { ...task.job, fill: 'null' as const } };
  },
  import: importTask,
  'view restate': restateTask,
};
type Kind = keyof typeof KINDS;

const quoted = (table: string) => table.replace(/^(\w+)\.(\w+)$/, '`$1`.`$2`');
const paramTable = (s: SentStatement, key: string) => `${String(s.params[`${key}_db`])}.${String(s.params[key])}`;
const syncOf = (cluster: string, table: string) =>
  `SYSTEM SYNC REPLICA ON CLUSTER \`${cluster}\` ${quoted(table)} LIGHTWEIGHT`;
const isDdl = (q: string) => /^(CREATE|DROP) (TABLE|VIEW|MATERIALIZED VIEW) /.test(q);

/** The table a CREATE or DROP names: a `{table_db}`/`{table}` parameter, or its allow-listed quoted name. */
function objectOf(s: SentStatement): string | undefined {
  if (s.params.table_db !== undefined) return paramTable(s, 'table');
  const m = /^(?:CREATE|DROP) (?:TABLE|VIEW|MATERIALIZED VIEW) (?:IF (?:NOT )?EXISTS )?`(\w+)`\.`(\w+)`/.exec(s.query);
  return m ? `${m[1]}.${m[2]}` : undefined;
}

/** The table whose parts a partition ALTER reads: `… FROM t` (REPLACE, ATTACH) or the table it moves out of. */
function partsReadBy(s: SentStatement): string | undefined {
  const from = /(?:REPLACE|ATTACH) PARTITION ID \{partition_id:String\} FROM `(\w+)`\.`(\w+)`/.exec(s.query);
  if (from) return `${from[1]}.${from[2]}`;
  return /MOVE PARTITION/.test(s.query) ? paramTable(s, 'shadow') : undefined;
}

/**
 * The failure modes of these kinds on a one-shard replicated cluster, found in what was sent, as words: a CTAS
 * (even `EMPTY AS SELECT`); a shadow, duplicate, Null table or view copy created in another database than the
 * target's; `ON CLUSTER` inside a Replicated database, or DDL without it in an Atomic one; DDL not read per host;
 * a created replicated table with another table's Keeper path; a partition ALTER reading a table's parts not
 * preceded by a sync of that table on the cluster since its last write; a partition ALTER not waiting for every
 * active replica; a MOVE not followed by a check of the table it moved out of on every replica.
 */
function violations(sent: SentStatement[], server: ServerProfile, targetDb: string): string[] {
  const found: string[] = [];
  const cluster = server.cluster!;
  sent.forEach((s, i) => {
    if (/^CREATE TABLE/.test(s.query) && /\bSELECT\b/i.test(s.query)) found.push(`${i}: CREATE … AS SELECT`);
    const object = objectOf(s);
    if (/^CREATE /.test(s.query) && object && !/ledger/.test(object) && !object.startsWith(`${targetDb}.`))
      found.push(`${i}: created in another database`);
    const onCluster = / ON CLUSTER /.test(s.query) && !/^(SYSTEM SYNC REPLICA|KILL QUERY)/.test(s.query);
    if (cluster.databaseEngine === 'Replicated' && onCluster) found.push(`${i}: ON CLUSTER in a Replicated database`);
    if (cluster.databaseEngine === 'Atomic' && isDdl(s.query) && !onCluster) found.push(`${i}: DDL without ON CLUSTER`);
    if (isDdl(s.query) && (s.via !== 'rows' || s.settings?.distributed_ddl_output_mode !== 'null_status_on_timeout'))
      found.push(`${i}: DDL not read per host`);
    if (
      cluster.databaseEngine === 'Atomic' &&
      /^CREATE TABLE \{table_db/.test(s.query) &&
      /ENGINE = Repl/.test(s.query)
    ) {
      if (!s.query.includes(`/${String(s.params.table_db)}/${String(s.params.table)}'`))
        found.push(`${i}: a replica path not its own`);
    }
    const read = partsReadBy(s);
    if (read) {
      const lastWrite = sent
        .slice(0, i)
        .map((x, j) => (x.via === 'exec' && !/^SYSTEM/.test(x.query) ? j : -1))
        .reduce((a, b) => Math.max(a, b), -1);
      if (!sent.slice(lastWrite + 1, i).some((x) => x.query === syncOf(cluster.name, read)))
        found.push(`${i}: ALTER not preceded by sync`);
    }
    if (/^ALTER TABLE .* PARTITION /.test(s.query) && !/ SETTINGS alter_sync = 3$/.test(s.query))
      found.push(`${i}: ALTER without alter_sync = 3`);
    if (/MOVE PARTITION/.test(s.query)) {
      const from = `clusterAllReplicas('${cluster.name}', ${quoted(paramTable(s, 'shadow'))})`;
      if (!sent.slice(i + 1).some((x) => x.query.includes(from))) found.push(`${i}: move not checked on every replica`);
    }
  });
  return found;
}

const quiet = { info: () => undefined, warn: () => undefined };
const env = () =>
  new MockActivityEnvironment({
    workflowExecution: { workflowId: 'wf', runId: 'run' },
    activityId: '1',
    attempt: 1,
  } as never);

describe.each(CLUSTERS)('%s', (_name, server) => {
  const cluster = server.cluster!.name;

  describe.each(Object.keys(KINDS) as Kind[])('%s partition', (kind) => {
    const task = { ...KINDS[kind](), server } as PartitionTask;
    const db = task.target.database;
    let sent: SentStatement[];
    beforeAll(async () => {
      const { ch, sent: log } = scriptedClickHouse(false, PARTITION.id);
      await runPartition(ch, task);
      sent = log;
    });

    test('none of the failure modes is sent', () => {
      expect(violations(sent, server, db)).toEqual([]);
    });

    test('one INSERT fills, then every table it wrote is synced on every replica, through the DDL queue', () => {
      const fills = sent.filter((s) => s.via === 'exec' && /^INSERT INTO/.test(s.query) && !/ledger/.test(s.query));
      expect(fills).toHaveLength(1);
      const at = sent.indexOf(fills[0]);
      const written =
        kind === 'import'
          ? [task.shadow, ...(task as ReturnType<typeof importTask>).duplicates.targets.map((t) => t.copy)]
          : [task.shadow];
      expect(sent.slice(at + 1, at + 1 + written.length).map((s) => s.query)).toEqual(
        written.map((t) => syncOf(cluster, `${t.database}.${t.name}`)),
      );
      for (const s of sent.filter((x) => /^SYSTEM SYNC REPLICA ON CLUSTER/.test(x.query)))
        expect(s.settings).toEqual(dialectOf(server).ddlSettings);
    });

    test("shadows and duplicates are created empty, as replicated tables with their own path, in the target's database", () => {
      const creates = sent.filter((s) => /^CREATE TABLE \{table_db/.test(s.query) && !/Null$/.test(s.query));
      expect(creates.length).toBeGreaterThan(0);
      for (const s of creates) {
        expect(s.params.table_db).toBe(db);
        if (server.cluster!.databaseEngine === 'Atomic') {
          expect(s.query).toMatch(
            new RegExp(
              `^CREATE TABLE \\{table_db:Identifier\\}\\.\\{table:Identifier\\} ON CLUSTER \`main\` AS \`default\`\\.\`\\w+\` ` +
                `ENGINE = Replicated\\w*MergeTree\\('/clickhouse/tables/\\{shard\\}/default/${String(s.params.table)}', '\\{replica\\}'\\)`,
            ),
          );
        } else {
          expect(s.query).toMatch(/^CREATE TABLE \{table_db:Identifier\}\.\{table:Identifier\} AS `default`\.`\w+`$/);
        }
      }
    });

    if (kind !== 'view restate') {
      test('the plan lists the statements the steps send, in order, with their settings', () => {
        const planned =
          kind === 'import'
            ? describedImportBatch(task as ListedImportTask)
            : describedViewPartition(task as ReturnType<typeof viewTask>);
        const listed = new Set(planned.map((p) => p.query));
        const compared = sent.filter(
          (s) => listed.has(s.query) && (s.via === 'exec' || isDdl(s.query) || /^SYSTEM SYNC/.test(s.query)),
        );
        expect(compared.map((s) => s.query)).toEqual(planned.map((p) => p.query));
        compared.forEach((s, i) => expect(s.settings).toEqual(planned[i].settings));
      });

      test('each failure mode, introduced into what was sent, is found', () => {
        const check = (mutated: SentStatement[], words: RegExp) =>
          expect(violations(mutated, server, db).join('; ')).toMatch(words);
        const moveAt = sent.findIndex((s) => /MOVE PARTITION/.test(s.query));
        const syncAt = moveAt - 1;
        const without = (...at: number[]) => sent.filter((_, j) => !at.includes(j));
        // A move without the syncs before it (the sync after the fill and the one just before the move).
        const fillSyncAt = sent.findIndex((s) => s.query === sent[syncAt].query);
        check(without(fillSyncAt, syncAt), /ALTER not preceded by sync/);
        const createAt = sent.findIndex((s) => /^CREATE TABLE \{table_db/.test(s.query));
        const replaced = (i: number, s: Partial<SentStatement>) => sent.map((x, j) => (j === i ? { ...x, ...s } : x));
        check(
          replaced(createAt, { query: `${sent[createAt].query.replace(/ ENGINE = .*/, '')} EMPTY AS SELECT 1` }),
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
            replaced(createAt, { query: sent[createAt].query.replace(/\/default\/\w+'/, "/default/events'") }),
            /replica path not its own/,
          );
        }
        check(replaced(moveAt, { query: sent[moveAt].query.replace(/ SETTINGS alter_sync = 3$/, '') }), /alter_sync/);
        const checkAt = sent.findIndex(
          (s, i) => i > moveAt && /clusterAllReplicas\(.*WHERE _partition_id/.test(s.query),
        );
        check(without(checkAt), /move not checked on every replica/);
      });

      test('a replica still holding rows after the move fails it (retried), naming the host', async () => {
        const { ch } = scriptedClickHouse(false, PARTITION.id, 10, {}, {});
        const replicaLeft = {
          ...ch,
          rows: ((statement: Statement, options?: RunOptions) =>
            /clusterAllReplicas/.test(statement.query)
              ? Promise.resolve([{ host: 'ch-node-3', rows: '4' }])
              : ch.rows(statement, options)) as ClickHouse['rows'],
        };
        await expect(runPartition(replicaLeft, task)).rejects.toThrow(
          /still holds rows after MOVE PARTITION on ch-node-3 \(4\)/,
        );
      });
    } else {
      test('the swap is a REPLACE after a sync of the shadow, checked on every replica before the ledger row', () => {
        const swap = sent.findIndex((s) => /REPLACE PARTITION/.test(s.query));
        expect(sent[swap - 1].query).toBe(syncOf(cluster, `${task.shadow.database}.${task.shadow.name}`));
        const checkAt = sent.findIndex((s, i) => i > swap && /clusterAllReplicas\(.*WHERE _partition_id/.test(s.query));
        const ledgerAt = sent.findIndex((s) => /^INSERT INTO \{ledger_db/.test(s.query));
        expect(checkAt).toBeGreaterThan(swap);
        expect(ledgerAt).toBeGreaterThan(checkAt);
      });
    }
  });

  test('a snapshot is a replicated table of its own, attached after a sync of the source, synced, dropped', async () => {
    const scripted = scriptedClickHouse(false, PARTITION.id);
    const { sent } = scripted;
    // The view does not exist until created; then it is ours.
    let views = 0;
    const view = { engine: 'MaterializedView', target_database: 'default', target_table: 'events_hourly' };
    const ch = {
      ...scripted.ch,
      rows: ((statement: Statement, options?: RunOptions) =>
        /AS stored,/.test(statement.query)
          ? (sent.push({ via: 'rows', query: statement.query, params: statement.params }),
            Promise.resolve(views++ === 0 ? [] : [{ ...view, stored: 'x', expected: 'x' }]))
          : scripted.ch.rows(statement, options)) as ClickHouse['rows'],
    };
    const plan = {
      source: { database: 'default', name: 'events' },
      target: { database: 'default', name: 'events_hourly' },
      view: { database: 'default', name: 'events_hourly_mv' },
      snapshot: { database: 'default', name: 'events_snapshot_w1' },
      targetExisted: true,
      server,
    };
    const steps = viewSnapshotSteps({ clickhouse: ch, log: quiet });
    const snapshotJob = { ...viewJob, cutoff: 'snapshot', source: { table: 'default.events' } } as typeof viewJob;
    expect(await env().run(steps.snapshotSource, { job: snapshotJob, plan })).toEqual({ ok: true, rows: 10 });
    await env().run(steps.createSnapshotView, { job: snapshotJob, plan, rows: 10 });
    await env().run(steps.dropSnapshot, { plan });
    expect(violations(sent, server, 'default')).toEqual([]);
    const queries = sent.map((s) => s.query);
    const attach = queries.findIndex((q) => /ATTACH PARTITION/.test(q));
    expect(queries[attach - 1]).toBe(syncOf(cluster, 'default.events'));
    expect(queries[attach + 1]).toBe(syncOf(cluster, 'default.events_snapshot_w1'));
    // The target exists on every replica: only the view is created, on every replica.
    const creates = queries.filter((q) => /^CREATE/.test(q));
    expect(creates.map((q) => /^CREATE (TABLE|MATERIALIZED VIEW)/.exec(q)?.[1])).toEqual([
      'TABLE',
      'MATERIALIZED VIEW',
    ]);
    expect(creates[1].includes(' ON CLUSTER `main` ')).toBe(server.cluster!.databaseEngine === 'Atomic');
  });

  test("the plan's ledger reads sync the ledger on every replica first, so they see the latest swaps", async () => {
    const { ch, sent } = scriptedClickHouse(false, PARTITION.id);
    const ledger = { database: 'default', name: '_backfill_ledger' };
    const target = { database: 'default', name: 'events_daily' };
    await latestLedgerEntries(ch, ledger, target, '202401', '202403', dialectOf(server));
    const read = sent.findIndex((s) => /FINAL/.test(s.query));
    expect(read).toBeGreaterThan(0);
    const sync = sent[read - 1];
    expect(sync.query).toBe(syncOf(cluster, 'default._backfill_ledger'));
    expect(sync.settings).toEqual(dialectOf(server).ddlSettings);
    // Elsewhere (Cloud, one server, embedded) no sync: the read itself is as before.
    const cloud = scriptedClickHouse(false, PARTITION.id);
    await latestLedgerEntries(cloud.ch, ledger, target, '202401', '202403', dialectOf(recordedProfile('cloud-26.7')));
    expect(cloud.sent.some((s) => /SYNC REPLICA/.test(s.query))).toBe(false);
  });
});

describe('a Null-engine fill on a replicated cluster', () => {
  test('its Null table is created AS the source (no EMPTY AS SELECT), its view copy on every replica', () => {
    const server = CLUSTERS[0][1];
    const task = { ...KINDS['view (Null-engine fill)'](), server };
    const prepare = describedViewPartition(task).filter((s) => /prepare/.test(s.step));
    expect(prepare.map((s) => s.query)).toEqual([
      'DROP VIEW IF EXISTS {view_db:Identifier}.{view:Identifier} ON CLUSTER `main` SYNC',
      'DROP TABLE IF EXISTS {table_db:Identifier}.{table:Identifier} ON CLUSTER `main` SYNC',
      'DROP TABLE IF EXISTS {table_db:Identifier}.{table:Identifier} ON CLUSTER `main` SYNC',
      expect.stringMatching(
        /^CREATE TABLE \{table_db:Identifier\}\.\{table:Identifier\} ON CLUSTER `main` AS `default`\.`events_hourly` ENGINE = ReplicatedSummingMergeTree\(/,
      ),
      'CREATE TABLE {table_db:Identifier}.{table:Identifier} ON CLUSTER `main` AS `default`.`events` ENGINE = Null',
      expect.stringMatching(
        /^CREATE MATERIALIZED VIEW `default`\.`\w+_mv` ON CLUSTER `main` TO `default`\.`\w+`\nAS SELECT /,
      ),
    ]);
    for (const s of prepare) expect(s.settings).toEqual(dialectOf(server).ddlSettings);
  });
});
