import type { ClickHouse } from '../../clickhouse/clickhouse';
import type { ValidationCheck } from '../../shared/backfill-results';
import {
  createViewCopy,
  importTotalAlias,
  insertImportBatch,
  selectImportBatchRows,
  selectTablePartitions,
  selectTargetTotals,
  selectViewsTotals,
} from '../../sql/import/import';
import { truncateTable } from '../../sql/engine/partition-ops';
import { repointViewSelect } from '../../sql/import/repoint-view-select';
import { dropViewIfExists, movePartitionTo } from '../../sql/view/view';
import { dialectOf, type ServerDialect } from '../../sql/engine/server-dialect';
import { shardRowsOf } from '../../sql/engine/shard-rows';
import type { Statement } from '../../clickhouse/statement';
import type { ActivityDeps } from '../engine/deps';
import type { KindSteps } from '../engine/kind-steps';
import { SwapVerificationError } from '../engine/errors';
import { runStatement } from '../engine/cluster-ddl';
import { stepsOnTaskShard } from '../engine/shard-client';
import { nothingLeftOnReplicas } from '../engine/replica-checks';
import { statementSteps, type ShadowStatements } from '../engine/statement-steps';
import { runStep, validated, type SwapResult, type ValidateResult } from '../engine/step-runner';
import { validationCheck } from '../engine/validation-check';
import { insertFileBatch } from '../../sql/import/import-files';
import { importFileChecks } from './import-file-steps';
import { qualifiedName, type TableRef } from '../../shared/table-ref';
import type { ImportPartitionTask } from '../../shared/partition-task';
import { listBatchFiles, type ListedImportTask } from './staged-batch-files';

/**
 * The task for a step that renders no statement of the batch's files (prepare, drop): its files as an empty
 * list, so those steps need no staged list (a drop still runs once the staged list has expired).
 */
const withoutFiles = (task: ImportPartitionTask): ListedImportTask => {
  const files = task.build.files;
  return { ...task, build: { ...task.build, files: files && { reader: files.reader, list: [] } } };
};

/**
 * The statements of one import batch's steps, in the order they run: what the steps and a dry run use. `prepare`
 * makes every duplicate afresh (the tables, then the view copies), `truncate` empties every duplicate, `drop` drops
 * the view copies, then every duplicate table.
 */
export interface ImportBatchStatements extends ShadowStatements {
  /**
   * Before a duplicate's partitions are moved: on Cloud a best-effort sync of it, since `MOVE PARTITION` takes the
   * parts the executing replica sees. The check after the moves (no duplicate holds a row, read with sequential
   * consistency) is what catches a replica that moved fewer parts; the retried swap moves what is left.
   */
  beforeMoves(copy: TableRef): Statement[];
  /** Moves one partition of a duplicate into its live table (after the live partition's pending patches are applied). */
  move(copy: TableRef, live: TableRef, partitionId: string): Statement[];
}

/**
 * Each duplicate table with the live table its partitions move into: the view targets first, deepest level of a
 * chain first (the plan lists them so), the main table last.
 */
export function importMoves(task: ImportPartitionTask): { copy: TableRef; live: TableRef }[] {
  return [
    ...task.duplicates.targets.map((t) => ({ copy: t.copy, live: t.table })),
    { copy: task.shadow, live: task.target },
  ];
}

/**
 * A view copy's SELECT: the live view's, re-pointed from the table it reads (the main table, or a view target up
 * the chain) at this batch's duplicate of it.
 */
const copySelect = (task: ImportPartitionTask, view: ImportPartitionTask['duplicates']['views'][number]): string =>
  repointViewSelect(view.select, view.reads ?? task.target, view.from ?? task.shadow);

/** Renders every statement of an import batch's steps from its task (see {@link ImportBatchStatements}). */
export function importBatchStatements(task: ListedImportTask): ImportBatchStatements {
  const { duplicates } = task;
  const tables = [task.shadow, ...duplicates.targets.map((t) => t.copy)];
  const dialect = dialectOf(task.server);
  const dropViews = duplicates.views.map((v) => dialect.ddl(dropViewIfExists(v.copy)));
  const dropTables = tables.map(dialect.dropTable);
  return {
    prepare: [
      ...dropViews,
      ...dropTables,
      dialect.createLike(task.shadow, task.target),
      ...duplicates.targets.map((t) => dialect.createLike(t.copy, t.table)),
      ...duplicates.views.map((v) => dialect.ddl(createViewCopy(v.copy, v.into, copySelect(task, v)))),
    ],
    truncate: tables.map(truncateTable),
    insert: task.build.files
      ? insertFileBatch(
          task.build.files.reader,
          task.shadow,
          task.build.columns,
          task.job.target.timeColumn,
          task.build.checkpoint,
          task.build.files.list.map((f) => f.path),
          shardRowsOf(task.server, task.target),
        )
      : insertImportBatch(
          task.source,
          task.shadow,
          task.job.target.timeColumn,
          task.build,
          task.partition.id,
          shardRowsOf(task.server, task.target),
        ),
    // Every duplicate: the fill wrote the main one, the view copies the others.
    afterFill: tables.flatMap((t) => dialect.syncAfterFill(t)),
    drop: [...dropViews, ...dropTables],
    beforeMoves: (copy) => dialect.syncBeforeAlter(copy),
    move: (copy, live, partitionId) => [
      ...dialect.applyPatches(live, partitionId),
      dialect.partitionAlter(movePartitionTo(copy, live, partitionId)),
    ],
  };
}

/**
 * Rows of every partition of `table` holding some, as a read that must see every earlier write: from part metadata
 * on one server, from the table with sequential consistency on Cloud (`selectTablePartitions`).
 */
async function partitionsOf(
  ch: ClickHouse,
  table: TableRef,
  dialect: ServerDialect,
): Promise<{ id: string; rows: number }[]> {
  return (await ch.rows(selectTablePartitions(table, dialect))).map((p) => ({ id: p.id, rows: Number(p.part_rows) }));
}

/**
 * The steps of an import batch, run by the partition workflow's activities when the task says `swap: 'move-all'`.
 * The main table's duplicate gets the batch's history rows, and the view copies fill the target duplicates as the
 * live views would have; then every duplicate's partitions are moved into its live table, added to what
 * ingestion wrote there.
 *
 * Exactly once: the fill truncates every duplicate first, and the workflow never runs it again once the move was
 * scheduled; each `MOVE PARTITION` takes the parts out of its duplicate atomically, so a retried move moves only
 * what a duplicate still holds.
 */
export function importBatchSteps(deps: ActivityDeps): KindSteps<ImportPartitionTask> {
  return stepsOnTaskShard(deps, batchSteps);
}

/** {@link importBatchSteps} with every statement through `deps.clickhouse`. */
function batchSteps(deps: ActivityDeps): KindSteps<ImportPartitionTask> {
  const { clickhouse: ch, log, onStep } = deps;
  // Every duplicate afresh (the main table's and each view target's, `CREATE TABLE … AS`, then the view copies);
  // the fill: every duplicate truncated, then the batch's history rows into the main table's duplicate; the drops.
  const { prepare, build, drop } = statementSteps(deps, importBatchStatements);
  const files = importFileChecks(deps);

  return {
    prepare: (task) => prepare(withoutFiles(task)),

    /**
     * The fill, from the batch's files as the plan fixed them (a staged list is read back and checked against its
     * hash first); a batch of files that fails on a file fails naming it (non-retryable), other batches go on.
     */
    async build(task: ImportPartitionTask) {
      const listed = await listBatchFiles(ch, task);
      try {
        return await build(listed);
      } catch (err) {
        throw await files.nameBadFile(listed, err);
      }
    },

    /**
     * The main table's duplicate holds exactly the batch's history rows, all in the batch's partition; and each
     * view target's duplicate has the same totals as its views' SELECT over the batch where that is exact (see
     * `targetChecks` in src/sql/import/import.ts), unless the job says `validation.viewTotals: false`.
     */
    async validate(unlisted: ImportPartitionTask): Promise<ValidateResult> {
      const task = await listBatchFiles(ch, unlisted);
      const id = task.partition.id;
      const tolerance = task.job.validation.relativeTolerance;
      const dialect = dialectOf(task.server);
      const fileBatch = task.build.files;
      return runStep(task, 'validate', async () => {
        // The history as committed; the duplicates, our own writes, as of every committed part (Cloud).
        const [source] = fileBatch
          ? [await files.historyRows(task, fileBatch)]
          : await ch.rows(
              selectImportBatchRows(
                task.source,
                task.job.target.timeColumn,
                task.build,
                id,
                shardRowsOf(task.server, task.target),
              ),
            );
        const held = await partitionsOf(ch, task.shadow, dialect);
        const total = held.reduce((n, p) => n + p.rows, 0);
        // A batch of files spans whatever partitions its rows fall in; a table's batch is one partition.
        const inBatch = fileBatch ? total : (held.find((p) => p.id === id)?.rows ?? 0);
        const checks: ValidationCheck[] = [];
        const check = (name: string, expected: string | number, actual: string | number) =>
          checks.push(validationCheck(name, expected, actual, tolerance));
        check(`${task.target.name}: rows = history rows of the batch`, source.rows, inBatch);
        if (!fileBatch) check(`${task.target.name}: rows outside partition ${id}`, 0, total - inBatch);
        if (task.job.validation.viewTotals) {
          for (const target of task.duplicates.targets) {
            if (!target.rows && target.totals.length === 0) continue;
            const name = (t: string) => `${target.table.name}: ${t}`;
            const views = task.duplicates.views.filter(
              (v) => v.into.database === target.copy.database && v.into.name === target.copy.name,
            );
            const [expected] = await ch.rows(
              dialect.consistentRead(
                selectViewsTotals(
                  views.map((v) => copySelect(task, v)),
                  target,
                ),
              ),
            );
            const [actual] = await ch.rows(dialect.consistentRead(selectTargetTotals(target.copy, target)));
            if (target.rows) check(name('rows = rows of its views over the batch'), expected.rows, actual.rows);
            target.totals.forEach((c, i) => {
              const alias = importTotalAlias(i);
              check(name(`${c.read}(${c.column}) = its views over the batch`), expected[alias], actual[alias]);
            });
          }
        }
        return validated(ch, task, { rowsRead: Number(source.rows), checks, shadowRows: inBatch });
      });
    },

    /**
     * Moves every partition each duplicate still holds into its live table (`MOVE PARTITION … TO TABLE`, atomic per
     * table and additive), the view targets first and the main table last, then checks that no duplicate holds a
     * row. A retry after a crash (before, between or after the moves) lists again and moves only what is left, so
     * every live table gains its duplicate's rows exactly once.
     */
    async swap(unlisted: ImportPartitionTask): Promise<SwapResult> {
      const task = await listBatchFiles(ch, unlisted);
      const id = task.partition.id;
      return runStep(task, 'swap', async () => {
        const moves = importMoves(task);
        const statements = importBatchStatements(task);
        const dialect = dialectOf(task.server);
        const moved = new Map<string, string[]>();
        for (const { copy, live } of moves) {
          // Listed as of every part the fill wrote (sequential consistency on Cloud): none is left out of the moves.
          const partitions = await partitionsOf(ch, copy, dialect);
          moved.set(
            qualifiedName(copy),
            partitions.map((p) => p.id),
          );
          for (const statement of statements.beforeMoves(copy)) await runStatement(ch, statement, dialect);
          for (const p of partitions) {
            for (const statement of statements.move(copy, live, p.id)) await runStatement(ch, statement, dialect);
          }
          await onStep?.('move:table', `${id}/${live.name}`);
        }
        if (task.build.files) await files.record(task, task.build.files);
        await onStep?.('move:done', id);
        for (const { copy } of moves) {
          const held = await partitionsOf(ch, copy, dialect);
          const left = held.reduce((n, p) => n + p.rows, 0);
          if (left !== 0) {
            throw new SwapVerificationError(
              `batch ${id}: ${qualifiedName(copy)} still holds ${left} rows after MOVE PARTITION`,
            );
          }
        }
        // On a replicated cluster, every replica of every duplicate (the partitions the moves took).
        for (const { copy } of moves) {
          for (const p of moved.get(qualifiedName(copy)) ?? []) await nothingLeftOnReplicas(ch, dialect, copy, p);
        }
        log.info('import batch moved', { partition: id, tables: moves.length });
        return { action: 'moved' as const };
      });
    },

    drop: (task) => drop(withoutFiles(task)),
  };
}
