import type { ClickHouse } from '../../clickhouse/clickhouse';
import { isClickHouseError } from '../../clickhouse/clickhouse-error';
import { engineFamily, isMergeTreeFamily } from '../../clickhouse/engine-family';
import { type ImportBatch, type ImportDescription, type ImportPlan, type ImportView } from '../../shared/import-input';
import { formatCheckpoint, importBatchTask, shardedImportTask } from '../../shared/import-batch-task';
import { parseCutoff, type ImportJob } from '../../shared/job-spec';
import { DESCRIBED_WRITER_TAG } from '../../shared/view-input';
import { shadowTableFor } from '../../shared/writer-tables';
import { ExpressionSyntaxError } from '../../shared/expression-syntax';
import {
  explainSelectPlan,
  isRowWisePlan,
  parsePartitionKey,
  selectColumnDetails,
  selectDependentViews,
  selectImportBatches,
  selectImportTableInfo,
  selectTimeRange,
  targetChecks,
} from '../../sql/import/import';
import { describeSelect } from '../../sql/engine/introspection';
import { isPlainIdentifier } from '../../shared/plain-identifier';
import { repointViewSelect, ViewRepointError } from '../../sql/import/repoint-view-select';
import { detectServerProfile } from '../engine/server-profile';
import { isReplicatedEngine } from '../../clickhouse/engine-family';
import { ddlRunSettings } from '../engine/cluster-ddl';
import { dialectOf } from '../../sql/engine/server-dialect';
import type { Statement } from '../../clickhouse/statement';
import type { ServerProfile } from '../../shared/server-profile';
import { refuseUnsupportedServer } from '../engine/server-refusal';
import { distributedTableOf } from '../../sql/engine/distributed-engine';
import { partitionsPerShard } from '../../shared/shard-partitions';
import { checkShardedImport } from './sharded-import-check';
import type { ActivityDeps } from '../engine/deps';
import { JobSpecError } from '../engine/errors';
import { withHeartbeat } from '../engine/heartbeat';
import { importBatchStatements, importMoves } from './import-steps';
import { tableResolver } from '../engine/table-resolver';
import { filePlanning } from './plan-file-import';
import { listedTask, stageBatchFiles, type ListedImportTask } from './staged-batch-files';
import type { ImportOnly } from '../../shared/import-input';
import { qualifiedName, type TableRef } from '../../shared/table-ref';
import type { DescribedStatement } from '../../shared/described-statement';

const same = (a: TableRef, b: TableRef): boolean => a.database === b.database && a.name === b.name;

type ColumnDetails = Awaited<ReturnType<typeof columnsOf>>[number];

/** The checked main table: its `system.tables` row and columns; `local`: the table behind a `Distributed` one. */
interface CheckedMain {
  info: ReturnType<typeof selectImportTableInfo> extends Statement<infer Row> ? Row : never;
  columns: ColumnDetails[];
  local?: TableRef;
}

function columnsOf(ch: ClickHouse, table: TableRef) {
  return ch.rows(selectColumnDetails(table));
}

/**
 * The main table: a MergeTree-family table with a DateTime time column and a partition key the grammar reads. A
 * `Distributed` table (a sharded cluster's target) is checked through its local table, returned as `local`.
 */
export async function checkMain(ch: ClickHouse, job: ImportJob, main: TableRef): Promise<CheckedMain> {
  const [info] = await ch.rows(selectImportTableInfo(main));
  if (!info) throw new JobSpecError('target.table', `table ${qualifiedName(main)} does not exist`);
  const distributed = info.engine === 'Distributed' ? distributedTableOf(info.engine_full) : undefined;
  if (distributed) return { ...(await checkMain(ch, job, distributed.local)), local: distributed.local };
  if (!isMergeTreeFamily(info.engine)) {
    throw new JobSpecError(
      'target.table',
      `${qualifiedName(main)} is ${info.engine}: only MergeTree-family tables have partitions to move`,
    );
  }
  const columns = await columnsOf(ch, main);
  const time = columns.find((c) => c.name === job.target.timeColumn);
  if (!time) {
    throw new JobSpecError(
      'target.timeColumn',
      `column "${job.target.timeColumn}" does not exist in ${qualifiedName(main)} (it has: ${columns.map((c) => c.name).join(', ')})`,
    );
  }
  if (!/^DateTime(64)?(\(.*\))?$/.test(time.type)) {
    throw new JobSpecError(
      'target.timeColumn',
      `"${time.name}" is ${time.type}; the checkpoint needs a DateTime or DateTime64`,
    );
  }
  try {
    parsePartitionKey(info.partition_key);
  } catch (err) {
    if (!(err instanceof ExpressionSyntaxError)) throw err;
    throw new JobSpecError(
      'target.table',
      `the partition key of ${qualifiedName(main)}, ${info.partition_key}, is outside the expression grammar, so the history ` +
        `cannot be split into its partitions: ${err.message}`,
      { cause: err },
    );
  }
  return { info, columns };
}

/**
 * The columns the history fills: every column of the main table given by an INSERT (no default expression; a
 * `DEFAULT` one when the history has it), each of the same type in the history. Others are computed.
 */
async function insertedColumns(ch: ClickHouse, main: TableRef, history: TableRef, columns: ColumnDetails[]) {
  const [info] = await ch.rows(selectImportTableInfo(history));
  if (!info) throw new JobSpecError('source.table', `table ${qualifiedName(history)} does not exist`);
  if (same(history, main)) throw new JobSpecError('source.table', `the history cannot be the main table itself`);
  const types = new Map((await columnsOf(ch, history)).map((c) => [c.name, c.type]));
  const inserted: string[] = [];
  for (const c of columns) {
    if (c.default_kind !== '' && c.default_kind !== 'DEFAULT') continue;
    const type = types.get(c.name);
    if (type === undefined && c.default_kind === 'DEFAULT') continue;
    if (type === undefined) {
      throw new JobSpecError(
        'source.table',
        `${qualifiedName(history)} has no column "${c.name}" (${c.type}) of ${qualifiedName(main)}`,
      );
    }
    if (type !== c.type) {
      throw new JobSpecError(
        'source.table',
        `column "${c.name}" is ${type} in ${qualifiedName(history)} and ${c.type} in ${qualifiedName(main)}: the history must have the main table's types`,
      );
    }
    inserted.push(c.name);
  }
  return inserted;
}

/**
 * The checkpoint, epoch microseconds: `min(<time>)` of the live table for `auto`; a given one must not lie ahead
 * and the live table must hold no row before it (the history before it would double those rows).
 */
export async function checkpointOf(ch: ClickHouse, job: ImportJob, main: TableRef): Promise<number> {
  const [range] = await ch.rows(selectTimeRange(main, job.target.timeColumn));
  const rows = Number(range.rows);
  const first = Number(range.first);
  if (job.checkpoint === 'auto') {
    if (rows === 0) {
      throw new JobSpecError(
        'checkpoint',
        `${qualifiedName(main)} holds no rows, so auto finds no checkpoint: give the time ingestion started (UTC)`,
      );
    }
    return first;
  }
  const checkpoint = (parseCutoff(job.checkpoint) ?? Number.NaN) * 1e6;
  const now = Date.now() * 1000;
  if (checkpoint > now) {
    throw new JobSpecError(
      'checkpoint',
      `${job.checkpoint} is in the future (now ${formatCheckpoint(now - (now % 1e6))})`,
    );
  }
  if (rows > 0 && first < checkpoint) {
    throw new JobSpecError(
      'checkpoint',
      `${qualifiedName(main)} already holds rows before ${job.checkpoint} (from ${formatCheckpoint(first)}): the history ` +
        'before the checkpoint would double them; give a checkpoint at or before its first row, or auto',
    );
  }
  return checkpoint;
}

/** A plain name for every table the job duplicates: their duplicates' names reach SQL through the allow-list. */
export function checkPlain(what: string, t: TableRef): void {
  if (!isPlainIdentifier(t.database) || !isPlainIdentifier(t.name)) {
    throw new JobSpecError(
      'target.table',
      `${what} ${JSON.stringify(qualifiedName(t))} is not a plain name (letters, digits, underscores): its duplicate cannot be named`,
    );
  }
}

/** How many levels of views an import follows from the main table (A → A_target → B → B_target is two). */
export const MAX_CHAIN_DEPTH = 4;

/**
 * The materialized views fed from the main table, and those fed from their targets, level by level (a chain
 * A → A_target → B → B_target): each re-pointable at a duplicate of the table it reads and writing a `TO` table of
 * the MergeTree family. A view writing into a table read earlier in the chain (a cycle), or a chain deeper than
 * {@link MAX_CHAIN_DEPTH}, is refused naming the view. The targets come deepest first (the order of the moves), and
 * per target what validation compares.
 */
export async function viewsOf(ch: ClickHouse, main: TableRef) {
  const views: ImportView[] = [];
  const outputs = new Map<
    string,
    { target: TableRef; outputs: string[][]; rowWise: boolean; depth: number; merged?: string }
  >();
  // Tables whose views were listed (a target among them is a cycle), and tables queued to be listed.
  const read = new Set<string>();
  const queued = new Set<string>([qualifiedName(main)]);
  let level: { table: TableRef; engine?: string }[] = [{ table: main }];
  for (let depth = 1; level.length > 0; depth++) {
    const next: typeof level = [];
    for (const { table: source, engine: sourceEngine } of level) {
      read.add(qualifiedName(source));
      for (const row of await ch.rows(selectDependentViews(source))) {
        const view = { database: row.database, name: row.name };
        const refuse = (why: string) =>
          new JobSpecError(
            'target.table',
            `${row.engine === 'MaterializedView' ? 'materialized view' : row.engine} ${qualifiedName(view)} reads ${qualifiedName(source)}: ${why}`,
          );
        if (row.engine === 'View') continue;
        if (row.engine !== 'MaterializedView') throw refuse('only materialized views can be duplicated');
        if (depth > MAX_CHAIN_DEPTH) {
          throw refuse(`the chain of views from ${qualifiedName(main)} is deeper than ${MAX_CHAIN_DEPTH} levels`);
        }
        const target = { database: row.target_database, name: row.target_table };
        if (target.name === '' || target.name.startsWith('.inner')) {
          throw refuse('it has no TO table (its rows live in an inner table): create it with TO <table> to import');
        }
        if (same(target, main)) throw refuse('it writes back into the table itself');
        if (read.has(qualifiedName(target))) {
          throw refuse(`it writes into ${qualifiedName(target)}, read earlier in the chain of views (a cycle)`);
        }
        checkPlain('materialized view', view);
        checkPlain('view target', target);
        try {
          repointViewSelect(row.view_select, source, shadowTableFor(source, 'all', DESCRIBED_WRITER_TAG));
        } catch (err) {
          if (!(err instanceof ViewRepointError)) throw err;
          throw refuse(`its SELECT cannot be re-pointed at a duplicate unambiguously: ${err.message}`);
        }
        const [info] = await ch.rows(selectImportTableInfo(target));
        if (!info) throw refuse(`its TO table ${qualifiedName(target)} does not exist`);
        if (!isMergeTreeFamily(info.engine))
          throw refuse(`its TO table ${qualifiedName(target)} is ${info.engine}, not of the MergeTree family`);
        let described: { name: string }[];
        try {
          described = await ch.rows(describeSelect({ query: row.view_select, params: {} }));
        } catch (err) {
          if (!isClickHouseError(err)) throw err;
          throw refuse(`ClickHouse cannot describe its SELECT: ${err.message}`);
        }
        const [plan] = await ch.rows(explainSelectPlan(row.view_select));
        const entry = outputs.get(qualifiedName(target)) ?? { target, outputs: [], rowWise: true, depth };
        entry.outputs.push(described.map((d) => d.name));
        entry.rowWise &&= isRowWisePlan(plan.explain);
        entry.depth = Math.max(entry.depth, depth);
        // A view reading a level whose engine merges rows saw insert blocks, not the merged table validation reads.
        if (sourceEngine !== undefined && engineFamily(sourceEngine) !== 'MergeTree') {
          entry.merged ??= `${qualifiedName(source)} (${sourceEngine})`;
        }
        outputs.set(qualifiedName(target), entry);
        views.push({ view, target, select: row.view_select, ...(depth > 1 ? { reads: source } : {}) });
        if (!queued.has(qualifiedName(target))) {
          queued.add(qualifiedName(target));
          next.push({ table: target, engine: info.engine });
        }
      }
    }
    level = next;
  }
  const targets = [];
  const deepestFirst = [...outputs.values()].sort((a, b) => b.depth - a.depth);
  for (const { target, outputs: outs, rowWise, merged } of deepestFirst) {
    const [info] = await ch.rows(selectImportTableInfo(target));
    const checks = targetChecks(target, info.engine, info.engine_full, await columnsOf(ch, target), outs, rowWise);
    targets.push(
      merged === undefined
        ? checks
        : {
            ...checks,
            rows: false,
            totals: [],
            note: `fed from ${merged}, whose rows merge: its views saw insert blocks, not the merged table; not compared`,
          },
    );
  }
  return { views, targets };
}

/**
 * The server's profile for the job's tables (`written`: the target first, whose database decides the cluster, then
 * the view targets; `read`: a table source), refusing before any DDL a server the tool cannot write correctly, and
 * on a replicated cluster a view target that is not a replicated table (its duplicate would have no engine to
 * replicate with, and its moves would reach one replica).
 */
async function serverOf(
  ch: ClickHouse,
  job: ImportJob,
  written: TableRef[],
  read: TableRef[] = [],
  options: { perShard?: boolean } = {},
): Promise<ServerProfile> {
  const [target, ...viewTargets] = written;
  const server = await detectServerProfile(ch, [...written, ...read], {
    target,
    cluster: job.cluster,
    shardTables: viewTargets,
  });
  refuseUnsupportedServer(server, target, job.safety, 'append', options);
  // A table import on a sharded cluster runs per (batch, shard): its own check refuses what it cannot run there.
  if (server.topology === 'sharded-cluster') checkShardedImport(server, target, viewTargets);
  if (server.topology === 'replicated-cluster') {
    const plain = written.find((t) => !isReplicatedEngine(server.tableEngines[qualifiedName(t)] ?? ''));
    if (plain) {
      throw new JobSpecError(
        'target.table',
        `${qualifiedName(plain)}, fed by a view of ${qualifiedName(target)}, is ` +
          `${server.tableEngines[qualifiedName(plain)] ?? 'missing'} on cluster ${server.cluster?.name}: every table ` +
          'an import moves rows into must be a Replicated…MergeTree table there, see docs/clusters.md',
      );
    }
  }
  return server;
}

/** Resolves the job's tables the same way in every activity. */
async function resolveTables(ch: ClickHouse, job: ImportJob, history: string) {
  const resolve = await tableResolver(ch);
  return { source: resolve(history), target: resolve(job.target.table) };
}

/**
 * A file plan's batches on a sharded cluster: one per (batch, shard), `<batch>@<shard>`, each shard filling its own
 * rows of the batch's files; the batch's staged list stays under the batch's own id (the task's). Elsewhere as given.
 */
function filesPerShard(batches: ImportBatch[], plan: ImportPlan): ImportBatch[] {
  const shards = plan.server?.topology === 'sharded-cluster' ? plan.server.sharding?.shards : undefined;
  return shards ? partitionsPerShard(batches, shards) : batches;
}

/** The batches a dry run renders: every one of a table; of files, the first two and the last (they read alike). */
function describedBatches(plan: ImportPlan): ImportBatch[] {
  if (!plan.files || plan.batches.length <= 3) return plan.batches;
  return [...plan.batches.slice(0, 2), ...plan.batches.slice(-1)];
}

export interface ImportPlanInput {
  job: ImportJob;
  /** File sources: `missing` (or `failed`) loads only the files the ledger does not hold; absent: `all`. */
  only?: ImportOnly;
}

/**
 * The activities of a `kind: import` job: plan (checks only, and the checkpoint), and describe all of it without
 * running any DDL (a dry run).
 */
export function importPlanning({ clickhouse: ch, log }: ActivityDeps) {
  const planFiles = filePlanning(ch, { checkPlain, checkMain, checkpointOf, viewsOf, serverOf });
  const plan = async (job: ImportJob, only: ImportOnly = 'all'): Promise<ImportPlan> => {
    if (!('table' in job.source)) return planFiles(job, job.source, only);
    const { source, target } = await resolveTables(ch, job, job.source.table);
    checkPlain('table', target);
    const main = await checkMain(ch, job, target);
    // On a sharded cluster the target is Distributed: its local table has the columns and the views.
    const local = main.local ?? target;
    const columns = await insertedColumns(ch, local, source, main.columns);
    const checkpoint = await checkpointOf(ch, job, target);
    const { views, targets } = await viewsOf(ch, local);
    const partitionKey = main.info.partition_key;
    const batches = (await ch.rows(selectImportBatches(source, job.target.timeColumn, partitionKey, checkpoint))).map(
      (b): ImportBatch => {
        const fromMicros = Number(b.first_us);
        const toMicros = Number(b.end_us);
        return {
          id: b.id,
          start: formatCheckpoint(fromMicros),
          end: formatCheckpoint(toMicros),
          sourceRows: Number(b.rows),
          targetRows: 0,
          maxRowsPerKey: 0,
          salt: 1,
          fromMicros,
          toMicros,
        };
      },
    );
    const server = await serverOf(ch, job, [target, ...targets.map((t) => t.table)], [source], { perShard: true });
    // On a sharded cluster one batch per (partition, shard): `<partition>@<shard>`, each shard filling its own part.
    const shards = server.topology === 'sharded-cluster' ? server.sharding?.shards : undefined;
    return {
      source,
      target,
      checkpoint,
      partitionKey,
      columns,
      views,
      targets,
      batches: shards ? partitionsPerShard(batches, shards) : batches,
      server,
    };
  };

  return {
    /**
     * Checks the job before any DDL and fixes the checkpoint and the batches: the main table (MergeTree family, a
     * DateTime time column, a partition key the grammar reads), the history (every column the main table needs,
     * same types), the checkpoint (auto: `min(<time>)` of the live table; a given one not ahead and with no live
     * row before it), and every materialized view fed from the main table (a `TO` table of the MergeTree family
     * feeding no further view, and a SELECT re-pointable at a duplicate). The result is recorded in the workflow's
     * history, so the checkpoint never changes afterwards.
     *
     * Files: the batches come back without their file lists, which are staged in `<db>._backfill_import_batches`
     * under a plan id of this planning's own, each batch with its file count and the hash of its list (see
     * src/activities/import/staged-batch-files.ts): the result stays small for tens of thousands of files.
     *
     * Durability: read-only but for the staged lists; a retry may find a different automatic checkpoint, which is
     * fine as nothing exists yet, and stages its lists anew under another plan id (the run reads only those of the
     * plan recorded in its history; the others expire).
     */
    async planImport({ job, only }: ImportPlanInput): Promise<ImportPlan> {
      return withHeartbeat(
        () => ({ step: 'plan' }),
        async () => {
          let planned = await plan(job, only);
          if (planned.files) {
            // The file lists stay out of the workflow's payloads: staged, each batch with the hash of its own.
            const { staged, batches } = await stageBatchFiles(ch, planned.target, planned.batches, planned.server);
            planned = { ...planned, batches: filesPerShard(batches, planned), files: { ...planned.files, staged } };
          }
          log.info('planned import', {
            target: qualifiedName(planned.target),
            checkpoint: formatCheckpoint(planned.checkpoint),
            views: planned.views.map((v) => qualifiedName(v.view)),
            batches: planned.batches.length,
          });
          return planned;
        },
      );
    },

    /**
     * A dry run: the same checks and checkpoint as `planImport`, then every table and view a run started now would
     * create and every statement it would send per batch, rendered by the same functions the run uses (duplicates
     * named with {@link DESCRIBED_WRITER_TAG}). Validation's reads are left out; the moves are shown once per
     * duplicate, for each partition it will hold.
     *
     * Durability: read-only; creates nothing, so repeating it is harmless.
     */
    async describeImport({ job, only }: ImportPlanInput): Promise<ImportDescription> {
      const unsharded = await plan(job, only);
      const planned = unsharded.files
        ? { ...unsharded, batches: filesPerShard(unsharded.batches, unsharded) }
        : unsharded;
      const creates: string[] = [];
      const statements: DescribedStatement[] = [];
      for (const batch of describedBatches(planned)) {
        // A dry run stages nothing: its batches keep their file lists.
        const task = listedTask(
          shardedImportTask(job, planned, batch, DESCRIBED_WRITER_TAG) ??
            importBatchTask(job, planned, batch, DESCRIBED_WRITER_TAG),
        );
        if (!task) throw new Error(`batch ${batch.id} of a dry run has no file list`);
        creates.push(
          qualifiedName(task.shadow),
          ...task.duplicates.targets.map((t) => qualifiedName(t.copy)),
          ...task.duplicates.views.map((v) => `${qualifiedName(v.copy)} (materialized view)`),
        );
        statements.push(...describedImportBatch(task));
      }
      // The file lists leave with the statements that name them (the first and last batches): the description's
      // plan keeps each batch's file count, however many files the glob matched.
      const batches = planned.batches.map(({ files, ...b }) => ({ ...b, fileCount: b.fileCount ?? files?.length }));
      return { plan: planned.files ? { ...planned, batches } : planned, creates, statements };
    },
  };
}

/**
 * One import batch's statements as its steps send them, in order (validation's reads and the row-count reads left
 * out): prepare, the fill, per duplicate its best-effort sync (Cloud) and its moves (for each partition it will
 * hold), the cleanup.
 */
export function describedImportBatch(task: ListedImportTask): DescribedStatement[] {
  const steps = importBatchStatements(task);
  const at = (step: string) => `batch ${task.partition.id}: ${step}`;
  const dialect = dialectOf(task.server);
  const run = (st: Statement, ddl = false) => ({ ...st, ...ddlRunSettings(st, dialect, ddl) });
  return [
    ...steps.prepare.map((st) => ({ step: at('prepare'), ...run(st, true) })),
    ...steps.truncate.map((st) => ({ step: at('fill'), ...st })),
    { step: at('fill'), ...steps.insert, settings: task.job.insertSettings as Record<string, number> },
    ...steps.afterFill.map((st) => ({ step: at('fill'), ...run(st) })),
    ...importMoves(task).flatMap(({ copy, live }) => [
      ...steps.beforeMoves(copy).map((st) => ({ step: at('move'), ...run(st) })),
      ...steps
        .move(copy, live, copy.name === task.shadow.name && !task.build.files ? task.partition.id : '<partition>')
        .map((st) => ({
          step: at(`move (each partition ${copy.name} holds)`),
          ...st,
        })),
    ]),
    ...steps.drop.map((st) => ({ step: at('cleanup'), ...run(st, true) })),
  ];
}
