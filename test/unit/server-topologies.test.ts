import { readFileSync } from 'node:fs';
import path from 'node:path';
import { aggregatePartitionStatements } from '../../src/activities/aggregate/aggregate-partition-statements';
import { firstFingerprintRead } from '../../src/activities/aggregate/source-fingerprint';
import { aggregationShape } from '../../src/sql/aggregate/aggregation-shape';
import { plannedPartitionStatements } from '../../src/activities/aggregate/describe-backfill';
import { toActivityFailure } from '../../src/activities/engine/errors';
import { describedImportBatch } from '../../src/activities/import/plan-import';
import type { ListedImportTask } from '../../src/activities/import/staged-batch-files';
import { describedViewPartition } from '../../src/activities/view/plan-view';
import type { DescribedStatement } from '../../src/shared/described-statement';
import { FailureType } from '../../src/shared/failure-types';
import type { PartitionTask } from '../../src/shared/partition-task';
import type { ServerProfile } from '../../src/shared/server-profile';
import type { TableRef } from '../../src/shared/table-ref';
import { selectClusterLoad } from '../../src/sql/engine/cluster-load';
import { selectActivePartitionRows, selectPartitionRowsBetween } from '../../src/sql/engine/partition-ops';
import { dialectOf } from '../../src/sql/engine/server-dialect';
import { selectLoggedQueryPeakMemory } from '../../src/sql/engine/query-memory';
import { selectQueriesRunningWithIdPrefix } from '../../src/sql/engine/query-tracking';
import { normalised, runPartition, scriptedClickHouse, type SentStatement } from '../helpers/scripted-clickhouse';
import { aggregateTask, dayTask, importTask, PARTITION, viewJob, viewTask } from '../helpers/topology-jobs';
import { MockActivityEnvironment } from '@temporalio/testing';
import { latestLedgerEntries } from '../../src/activities/engine/ledger';
import { viewSnapshotSteps } from '../../src/activities/snapshot/view-snapshot';
import { selectActivePartitions } from '../../src/sql/snapshot/snapshot';
import { viewColumns, viewShape } from '../../src/sql/view/view';
import {
  insertViewQueryRange,
  selectViewQueryTableTotals,
  selectViewQueryTotals,
  shorthandViewQuery,
} from '../../src/sql/view/view-sql';
import { selectTableColumns, selectTableInfo } from '../../src/sql/engine/introspection';
import { recordedProfile } from '../helpers/recorded-profile';

/**
 * Statement-level tests per topology: the same aggregate (and daily day), view and import partitions, run through
 * the real step bodies against a scripted ClickHouse under each recorded server profile. No ClickHouse server runs
 * here: these tests check what the tool sends, not what a server does with it.
 */

const SERVERS = ['single-server-24.8', 'single-server-26.7', 'cloud-26.7'] as const;
const TOPOLOGIES: [string, ServerProfile | undefined][] = [
  ['embedded (no profile)', undefined],
  ...SERVERS.map((name): [string, ServerProfile] => [name, recordedProfile(name)]),
];
const KINDS = { aggregate: aggregateTask, day: dayTask, view: viewTask, import: importTask };
type Kind = keyof typeof KINDS;

/** The statements the steps sent before server profiles existed (recorded from commit 52ae49e). */
const BEFORE = JSON.parse(
  readFileSync(path.resolve(__dirname, '../fixtures/topology-statements/before-profiles.json'), 'utf8'),
) as Record<string, SentStatement[]>;

function taskOf(kind: Kind, server: ServerProfile | undefined): PartitionTask {
  const task = KINDS[kind]();
  return server ? { ...task, server } : task;
}

async function sentBy(task: PartitionTask, rowsOf: Record<string, number> = {}): Promise<SentStatement[]> {
  const { ch, sent } = scriptedClickHouse(task.server === undefined, PARTITION.id, 10, rowsOf);
  await runPartition(ch, task);
  return sent;
}

const qualified = (t: TableRef) => `${t.database}.${t.name}`;
const syncedTable = (s: { query: string }) => /^SYSTEM SYNC REPLICA `(\w+)`\.`(\w+)` LIGHTWEIGHT$/.exec(s.query);
const SEQUENTIAL = / SETTINGS select_sequential_consistency = 1$/;

/** The tables a statement names: through `{k_db}.{k}` or `{db}/{name}` parameters, or allow-list quoted. */
function tablesOf(s: { query: string; params: Record<string, unknown> }): string[] {
  const names = new Set<string>();
  for (const [key, value] of Object.entries(s.params)) {
    if (key.endsWith('_db') && s.params[key.slice(0, -3)] !== undefined) {
      names.add(`${String(value)}.${String(s.params[key.slice(0, -3)])}`);
    }
  }
  if (s.params.db !== undefined && s.params.name !== undefined)
    names.add(`${String(s.params.db)}.${String(s.params.name)}`);
  for (const m of s.query.matchAll(/`(\w+)`\.`(\w+)`/g)) names.add(`${m[1]}.${m[2]}`);
  return [...names];
}

/**
 * The tables a statement writes: the table an INSERT, TRUNCATE or ALTER names first (its `{k_db}.{k}`), and the
 * table a MOVE PARTITION moves to; `fills` adds what a write feeds through views (an import's view copies).
 */
function writtenBy(s: SentStatement, fills: Record<string, string[]>): string[] {
  if (s.via !== 'exec') return [];
  const m = /^(?:INSERT INTO|TRUNCATE TABLE|ALTER TABLE) \{(\w+)_db:Identifier\}\.\{\1:Identifier\}/.exec(s.query);
  if (!m) return [];
  const first = `${String(s.params[`${m[1]}_db`])}.${String(s.params[m[1]])}`;
  const moved = /MOVE PARTITION .* TO TABLE `(\w+)`\.`(\w+)`/.exec(s.query);
  return [first, ...(moved ? [`${moved[1]}.${moved[2]}`] : []), ...(fills[first] ?? [])];
}

/** Whether a read is a table's existence in `system.tables`: metadata of the table, not its rows. */
const existenceRead = (s: { query: string }) => /FROM system\.tables WHERE database/.test(s.query);

/**
 * The indexes of the reads of a table's rows after an earlier statement wrote that table (in this step or an
 * earlier one of the partition), with that table.
 */
function readsAfterWrites(sent: SentStatement[], fills: Record<string, string[]> = {}): [number, string][] {
  const written = new Set<string>();
  const found: [number, string][] = [];
  sent.forEach((s, i) => {
    if (s.via === 'rows' && !existenceRead(s)) for (const t of tablesOf(s)) if (written.has(t)) found.push([i, t]);
    for (const t of writtenBy(s, fills)) written.add(t);
  });
  return found;
}

/**
 * Each read of a table after a write to it that is not read with sequential consistency, as `read <i>: <table>`:
 * a sync sent before it proves nothing (the read may reach another replica), and a count from `system.parts`
 * (per-replica metadata, which the setting does not reach) never qualifies.
 */
function inconsistentReads(sent: SentStatement[], fills: Record<string, string[]> = {}): string[] {
  return readsAfterWrites(sent, fills)
    .filter(([i]) => !SEQUENTIAL.test(sent[i].query) || /\bsystem\.parts\b/.test(sent[i].query))
    .map(([i, t]) => `read ${i}: ${t}`);
}

/** An import's writes to its main duplicate fill the view targets' duplicates through the view copies. */
function fillsOf(task: PartitionTask): Record<string, string[]> {
  return 'duplicates' in task
    ? { [qualified(task.shadow)]: task.duplicates.targets.map((t) => qualified(t.copy)) }
    : {};
}

const isPartitionAlter = (q: string) => /^ALTER TABLE .* (REPLACE|ATTACH|MOVE|DROP) PARTITION /.test(q);

/** What the plan (the dry run) lists for a kind's partition, in order; a day build is not planned: its statements. */
function plannedOf(kind: Kind, task: PartitionTask): DescribedStatement[] {
  if (kind === 'view') return describedViewPartition(task as ReturnType<typeof viewTask>);
  if (kind === 'import') return describedImportBatch(task as ListedImportTask);
  const aggregate = task as ReturnType<typeof aggregateTask>;
  if (kind === 'aggregate') return plannedPartitionStatements(aggregate, false);
  const s = aggregatePartitionStatements(aggregate);
  const day = s.day!;
  const at = (step: string) => ({ step });
  return [
    ...s.prepare,
    s.fingerprint,
    ...day.copy,
    day.delete,
    { ...day.insert, settings: aggregate.job.insertSettings as Record<string, number> },
    ...s.beforeSwap,
    ...s.replace,
    ...s.cleanup,
  ].map((st) => ({ ...at('day'), ...st }));
}

/** Server-side tracking and the ledger row, which the statement lists leave out by design. */
const unlisted = (s: { query: string; params: Record<string, unknown> }) =>
  /^KILL QUERY|^SYSTEM FLUSH LOGS|query_log|FROM system\.(parts|tables) |\{ledger_db:Identifier\}/.test(s.query);

/** `params` equal, a planned `<partition>` standing for whichever partition the duplicate held. */
const sameParams = (planned: Record<string, unknown>, sent: Record<string, unknown>) =>
  Object.keys(planned).length === Object.keys(sent).length &&
  Object.entries(planned).every(([k, v]) => v === '<partition>' || v === sent[k]);

describe.each(TOPOLOGIES)('%s', (_name, server) => {
  describe.each(Object.keys(KINDS) as Kind[])('%s partition', (kind) => {
    let task: PartitionTask;
    let sent: SentStatement[];
    beforeAll(async () => {
      task = taskOf(kind, server);
      sent = await sentBy(task);
    });

    test('the steps send exactly the listed statements and settings, in order', () => {
      const planned = plannedOf(kind, task).filter((p) => !unlisted(p));
      const listedReads = new Set(planned.map((p) => p.query));
      const compared = sent.filter((s) => !unlisted(s) && (s.via === 'exec' || listedReads.has(s.query)));
      expect(compared.map((s) => s.query)).toEqual(planned.map((p) => p.query));
      compared.forEach((s, i) => {
        expect(sameParams(planned[i].params, s.params)).toBe(true);
        expect(s.settings).toEqual(planned[i].settings);
      });
    });

    test('no statement sends a setting it does not set: only the fill carries the job insertSettings', () => {
      const withSettings = sent.filter((s) => s.settings !== undefined);
      expect(withSettings.map((s) => s.query.slice(0, 11))).toEqual(['INSERT INTO']);
      expect(withSettings[0].settings).toEqual(task.job.insertSettings);
      const written = [
        'alter_sync',
        'mutations_sync',
        ...(server?.topology === 'cloud' ? ['select_sequential_consistency'] : []),
      ];
      for (const s of sent) {
        const inline = [...s.query.matchAll(/SETTINGS (\w+)/g)].map((m) => m[1]);
        for (const name of inline) expect(written).toContain(name);
      }
    });

    test("shadows and duplicates are created empty, like a live table, in the target's database", () => {
      const creates = sent.filter((s) => /^CREATE TABLE/.test(s.query) && !/\{ledger_db:/.test(s.query));
      expect(creates.length).toBeGreaterThan(0);
      for (const s of creates) {
        expect(s.query).not.toMatch(/\bSELECT\b/i);
        expect(s.query).toMatch(/ AS `\w+`\.`\w+`$/);
        expect(s.params.table_db).toBe(task.target.database);
      }
    });

    if (server?.topology === 'cloud') {
      test('every read of a table written earlier carries select_sequential_consistency = 1, none system.parts', () => {
        expect(readsAfterWrites(sent, fillsOf(task)).length).toBeGreaterThan(0);
        expect(inconsistentReads(sent, fillsOf(task))).toEqual([]);
        expect(sent.filter((s) => /\bsystem\.parts\b/.test(s.query) && s.params.partition_id !== undefined)).toEqual(
          [],
        );
      });

      test('the check fails when any one of those reads lacks the setting, naming it', () => {
        for (const [i, table] of readsAfterWrites(sent, fillsOf(task))) {
          const without = sent.map((s, j) => (j === i ? { ...s, query: s.query.replace(SEQUENTIAL, '') } : s));
          expect(inconsistentReads(without, fillsOf(task))).toEqual([`read ${i}: ${table}`]);
        }
      });

      test('the check fails when a row count is read from system.parts instead', () => {
        const i = sent.findIndex((s) => /WHERE _partition_id = /.test(s.query));
        expect(i).toBeGreaterThanOrEqual(0);
        const parts = selectActivePartitionRows(
          { database: String(sent[i].params.table_db), name: String(sent[i].params.table) },
          PARTITION.id,
        );
        const asParts = {
          ...sent[i],
          query: `${parts.query} SETTINGS select_sequential_consistency = 1`,
          params: parts.params,
        };
        const without = sent.map((s, j) => (j === i ? asParts : s));
        expect(inconsistentReads(without, fillsOf(task))).toEqual([
          `read ${i}: ${String(parts.params.db)}.${String(parts.params.name)}`,
        ]);
      });

      test('syncs only precede the partition ALTERs that read the synced table on the executing replica', () => {
        sent.forEach((s, i) => {
          const synced = syncedTable(s);
          if (!synced) return;
          const next = sent
            .slice(i + 1)
            .find((x) => x.via === 'exec' && !syncedTable(x) && !/APPLY PATCHES/.test(x.query))!;
          expect(next.query).toMatch(/^ALTER TABLE .* (REPLACE|ATTACH|MOVE) PARTITION /);
          const read = /FROM `(\w+)`\.`(\w+)`|MOVE PARTITION/.exec(next.query)!;
          const source = read[1]
            ? `${read[1]}.${read[2]}`
            : `${String(next.params.shadow_db)}.${String(next.params.shadow)}`;
          expect(source).toBe(`${synced[1]}.${synced[2]}`);
        });
      });

      test('partition ALTERs wait for every active replica; KILL and the query log reach every replica', () => {
        const alters = sent.filter((s) => isPartitionAlter(s.query));
        expect(alters.length).toBeGreaterThan(0);
        for (const s of alters) expect(s.query).toMatch(/ SETTINGS alter_sync = 3$/);
        for (const s of sent.filter((x) => /^KILL/.test(x.query)))
          expect(s.query).toMatch(/^KILL QUERY ON CLUSTER default /);
        for (const s of sent.filter((x) => /query_log/.test(x.query))) {
          expect(s.query).toContain("clusterAllReplicas('default', system.query_log)");
        }
      });
    } else {
      test('one server (or embedded) gets exactly the statements sent before profiles existed', () => {
        let before = [...BEFORE[`${kind}/${server ? 'server' : 'embedded'}`]];
        // Besides the backup's guard: its rows are now compared with the live partition's, read right after.
        const backup = 'backup' in task && task.backup;
        if (backup) {
          const read = before.findIndex((s) => s.via === 'rows' && s.params.name === backup.name);
          const live = { db: task.target.database, name: task.target.name, partition_id: PARTITION.id };
          before.splice(read + 1, 0, { ...before[read], params: live });
        }
        // Besides the read of what each KILL left running: a redo starts only once nothing of the old build runs.
        for (let i = before.length - 1; i >= 0; i--) {
          if (!before[i].query.startsWith('KILL QUERY')) continue;
          const left = selectQueriesRunningWithIdPrefix(String(before[i].params.prefix));
          before.splice(i + 1, 0, { via: 'rows', query: left.query, params: left.params });
        }
        // Besides the source's fingerprint: read from its parts' metadata first (no part here, so no scan).
        const scan = before.findIndex((s) => /INNER JOIN \(SELECT name, rows, bytes_on_disk/.test(s.query));
        if (scan >= 0) {
          const aggregate = task as ReturnType<typeof aggregateTask>;
          const shape = aggregationShape(aggregate.job);
          const range = { start: String(before[scan].params.range_start), end: String(before[scan].params.range_end) };
          before[scan] = { via: 'rows', ...firstFingerprintRead(shape, aggregate.source, range) };
        }
        // Besides a structured view's ranged fill: rendered by the SQL path (issue 18), the same rows, the partition
        // chosen by its output column outside the GROUP BY, the source named in the SELECT text. And less for a
        // view's fill into the shadow just made: no second KILL (and its read), no truncate, no count of the shadow
        // after the INSERT (validation counts it), and validation's count comes with the shadow's totals.
        if (kind === 'view') {
          const fill = before.findIndex((s) =>
            s.query.startsWith('INSERT INTO {into_db:Identifier}.{into:Identifier}'),
          );
          expect(fill).toBeGreaterThanOrEqual(0);
          const view = task as ReturnType<typeof viewTask>;
          const shape = viewShape(view.job);
          const ranged = insertViewQueryRange(
            shorthandViewQuery(shape, view.source),
            view.shadow,
            viewColumns(shape),
            PARTITION.id,
            view.build.cutoff,
          );
          before[fill] = { ...before[fill], query: ranged.query, params: ranged.params };
          const kills = before.flatMap((st, i) => (st.query.startsWith('KILL QUERY') ? [i] : []));
          if (kills.length > 1) before.splice(kills[1], 2);
          before.splice(
            before.findIndex((st) => st.query.startsWith('TRUNCATE TABLE')),
            1,
          );
          const insert = before.findIndex((st) => st.query.startsWith('INSERT INTO'));
          before.splice(insert + 1, 1);
          // Validation through the SQL path (issue 18): the live target's columns and engine (a Summing one may name
          // the columns it sums), then the view query's totals over
          // the partition and the shadow's, whose count of rows spares the row count of the shadow after them.
          const vq = shorthandViewQuery(shape, view.source);
          const reads = { keys: true, sums: ['events', 'ctr'], merged: [] };
          const totals = before.findIndex((st) => /AS groups/.test(st.query));
          before.splice(
            totals,
            3,
            { via: 'rows', ...selectTableColumns(view.target) },
            { via: 'rows', ...selectTableInfo(view.target) },
            { via: 'rows', ...selectViewQueryTotals(vq, reads, PARTITION.id, view.build.cutoff) },
            { via: 'rows', ...selectViewQueryTableTotals(vq, reads, view.shadow, PARTITION.id, false) },
          );
          // A ranged fill has no Null-fill helpers to drop.
          const helper = (st: SentStatement) => /_w1_(mv|null)$/.test(String(st.params.view ?? st.params.table));
          before = before.filter((st) => !helper(st));
        }
        expect(normalised(sent)).toEqual(before);
        expect(sent.some((s) => /SYNC REPLICA|alter_sync|ON CLUSTER|clusterAllReplicas/.test(s.query))).toBe(false);
      });
    }
  });

  test('a backup holding fewer rows than the live partition fails before the swap, not retried', async () => {
    const task = taskOf('aggregate', server) as ReturnType<typeof aggregateTask>;
    const backup = qualified(task.backup!);
    const failure = await sentBy(task, { [backup]: 9 }).catch((err: unknown) => err);
    expect(failure).toBeInstanceOf(Error);
    expect((failure as Error).name).toBe(FailureType.BackupIncomplete);
    expect((failure as Error).message).toContain(`the backup ${backup} holds 9 rows, the live partition 10`);
    expect(toActivityFailure(failure)).toMatchObject({ type: FailureType.BackupIncomplete, nonRetryable: true });
  });
});

describe('pending lightweight updates (patch parts)', () => {
  const patched = (name: string, table: string): ServerProfile => ({
    ...recordedProfile(name),
    patchPartitions: { [table]: [PARTITION.id] },
  });

  test('Cloud 26.7 applies them before the backup copies the live partition and before the swap', async () => {
    const task = taskOf('aggregate', patched('cloud-26.7', 'default.events_daily'));
    // The best-effort syncs between a patch and its partition ALTER are tested above.
    const queries = (await sentBy(task)).map((s) => s.query).filter((q) => !/^SYSTEM SYNC REPLICA/.test(q));
    const applies = queries.flatMap((q, i) => (/APPLY PATCHES IN PARTITION ID/.test(q) ? [i] : []));
    expect(applies).toHaveLength(2);
    expect(queries[applies[0]]).toMatch(/SETTINGS mutations_sync = 3$/);
    expect(queries[applies[0] + 1]).toMatch(/DROP PARTITION/);
    expect(queries[applies[0] + 2]).toMatch(/ATTACH PARTITION/);
    expect(queries[applies[1] + 1]).toMatch(/REPLACE PARTITION/);
  });

  test("a view's move into a target with patches applies them first", async () => {
    const queries = (await sentBy(taskOf('view', patched('single-server-26.7', 'default.events_hourly')))).map(
      (s) => s.query,
    );
    const apply = queries.findIndex((q) => /APPLY PATCHES/.test(q));
    expect(queries[apply]).toMatch(/SETTINGS mutations_sync = 2$/);
    expect(queries[apply + 1]).toMatch(/MOVE PARTITION/);
  });

  test('a server without lightweight updates (24.8) is sent none, whatever the profile lists', async () => {
    const sent = await sentBy(taskOf('aggregate', patched('single-server-24.8', 'default.events_daily')));
    expect(sent.some((s) => /APPLY PATCHES/.test(s.query))).toBe(false);
  });
});

describe('per-node system tables', () => {
  const source = { database: 'default', name: 'events' };
  const target = { database: 'default', name: 'events_daily' };

  test.each(TOPOLOGIES)('%s: load check and query log', (_name, server) => {
    const cloud = server?.topology === 'cloud';
    const load = selectClusterLoad(source, target, dialectOf(server)).query;
    const log = selectLoggedQueryPeakMemory('q', dialectOf(server)).query;
    for (const table of ['processes', 'merges', 'metrics']) {
      expect(load.includes(`clusterAllReplicas('default', system.${table})`)).toBe(cloud);
    }
    // Parts and mutations of shared storage are the table's own: the same on every replica, never counted twice.
    expect(load).not.toMatch(/clusterAllReplicas\('default', system\.(parts|mutations)\)/);
    expect(log.includes("clusterAllReplicas('default', system.query_log)")).toBe(cloud);
    if (!server) expect(load).toBe(selectClusterLoad(source, target).query);
  });
});

describe('reads of what earlier runs wrote', () => {
  const source = { database: 'default', name: 'events' };
  const target = { database: 'default', name: 'events_hourly' };
  const env = () =>
    new MockActivityEnvironment({ workflowExecution: { workflowId: 'wf', runId: 'run' }, attempt: 1 } as never);

  test.each(TOPOLOGIES)(
    '%s: the plan reads the ledger and the target rows consistently on Cloud',
    async (_n, server) => {
      const cloud = server?.topology === 'cloud';
      const { ch, sent } = scriptedClickHouse(server === undefined, PARTITION.id);
      const ledger = { database: 'default', name: 'backfill_ledger' };
      await latestLedgerEntries(ch, ledger, target, '202401', '202403', dialectOf(server));
      const read = sent.find((s) => /FINAL/.test(s.query))!;
      expect(SEQUENTIAL.test(read.query)).toBe(cloud);
      const live = selectPartitionRowsBetween(target, '202401', '202403', dialectOf(server)).query;
      expect(/system\.parts/.test(live)).toBe(!cloud);
      expect(SEQUENTIAL.test(live)).toBe(cloud);
      if (!server) expect(live).toBe(selectPartitionRowsBetween(target, '202401', '202403').query);
    },
  );

  test.each(TOPOLOGIES)("%s: a snapshot's rows are compared as of every committed part", async (_n, server) => {
    const { ch, sent } = scriptedClickHouse(server === undefined, PARTITION.id);
    const plan = {
      source,
      target,
      view: { database: 'default', name: 'events_hourly_mv' },
      snapshot: { database: 'default', name: 'events_snapshot_w1' },
      targetExisted: false,
      ...(server ? { server } : {}),
    };
    const steps = viewSnapshotSteps({ clickhouse: ch, log: { info: () => undefined, warn: () => undefined } });
    expect(await env().run(steps.snapshotSource, { job: viewJob, plan })).toEqual({ ok: true, rows: 10 });
    const counts = sent.filter((s) => s.via === 'rows');
    expect(counts).toHaveLength(3);
    if (server?.topology === 'cloud') {
      // The source's rows before and after, and the snapshot's: all counted from the tables, consistently.
      for (const s of counts) expect(s.query).toMatch(SEQUENTIAL);
      expect(inconsistentReads(sent)).toEqual([]);
    } else {
      for (const s of counts)
        expect(s.query).toBe(selectActivePartitions(s.params.name === 'events' ? source : plan.snapshot).query);
      expect(sent.some((s) => /SETTINGS/.test(s.query))).toBe(false);
    }
    expect(sent.some((s) => /SYNC REPLICA/.test(s.query))).toBe(false);
  });
});
