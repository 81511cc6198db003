import { createHash } from 'node:crypto';
import { Context } from '@temporalio/activity';
import type { Statement } from '../../clickhouse/statement';
import type { ViewRestateBuild, ViewRestatePartitionTask } from '../../shared/partition-task';
import { qualifiedName, type TableRef } from '../../shared/table-ref';
import type { LedgerRecord } from '../../sql/engine/ledger';
import { attachPartitionFrom, truncateTable } from '../../sql/engine/partition-ops';
import { dialectOf } from '../../sql/engine/server-dialect';
import {
  insertRestatedPartition,
  selectRestateQueryTotals,
  selectRestateRowsOutside,
} from '../../sql/view-restate/restate';
import { repointViewSelect } from '../../sql/import/repoint-view-select';
import type { ClickHouse } from '../../clickhouse/clickhouse';
import { comparisonFor, selectViewQueryTableTotals, type ViewQueryTotalsReads } from '../../sql/view/view-sql';
import { replacingPartitionStatements, type ReplacingStatements } from '../aggregate/aggregate-partition-statements';
import { replacingBackup, replacingSwap } from '../aggregate/aggregate-steps';
import type { ActivityDeps } from '../engine/deps';
import { BackupMissingError } from '../engine/errors';
import { runDdl, runStatement } from '../engine/cluster-ddl';
import type { KindSteps } from '../engine/kind-steps';
import { viewQueryChecks } from '../view/view-query-checks';
import { fingerprintColumns, insertLedgerRecord, type SwapContext } from '../engine/ledger';
import { statementSteps, type ShadowStatements } from '../engine/statement-steps';
import { partitionRows, runStep, tableExists, validated, type SwapResult } from '../engine/step-runner';
import { validationCheck } from '../engine/validation-check';
import { emptySnapshot, sourceSnapshots } from '../aggregate/source-fingerprint';

/**
 * The statements of a restated partition's steps, in the order they run: the shadow, backup and swap of every
 * replacing kind (src/activities/aggregate/aggregate-partition-statements.ts), and the fill from the view's stored
 * query; what the steps send and a dry run prints.
 */
export interface ViewRestateStatements extends ShadowStatements, ReplacingStatements {
  /** Validation's read of the view's output rows of the partition (what `reads` says, from the target's columns). */
  sourceTotals(reads: ViewQueryTotalsReads): Statement<Record<string, string>>;
  /** The same totals of the shadow's partition (after `FINAL` for a Replacing target), our own write. */
  shadowTotals(reads: ViewQueryTotalsReads): Statement<Record<string, string>>;
}

/** A restate's task while it restates (not a rollback's restore of it). */
export type RestatingTask = ViewRestatePartitionTask & { build: ViewRestateBuild };

const isRestating = (task: ViewRestatePartitionTask): task is RestatingTask => task.build.kind === 'view-restate';

/** Renders every statement of a restated partition's steps from its task. */
export function viewRestateStatements(task: RestatingTask): ViewRestateStatements {
  const { build, partition, shadow } = task;
  const replacing = replacingPartitionStatements(task);
  const dialect = dialectOf(task.server);
  return {
    ...replacing,
    truncate: [truncateTable(shadow)],
    insert: insertRestatedPartition(build, shadow, partition.id),
    drop: replacing.cleanup,
    sourceTotals: (reads) => selectRestateQueryTotals(build, reads, partition.id),
    shadowTotals: (reads) =>
      dialect.consistentRead(
        selectViewQueryTableTotals(
          { select: build.select, timeColumn: '', engine: build.engine, orderBy: build.orderBy, partitionBy: 'none' },
          reads,
          shadow,
          partition.id,
          comparisonFor(build.engine) === 'final rows',
        ),
      ),
  };
}

/** What decides a restated partition's rows: the table read, the view's stored query, the columns and partitioning. */
export function restateDefinitionHash(source: TableRef, build: ViewRestateBuild): string {
  const { select, columns, partitionBy } = build;
  const definition = JSON.stringify({
    version: 1,
    kind: 'view-restate',
    source: qualifiedName(source),
    select,
    columns,
    partitionBy,
  });
  return createHash('sha256').update(definition).digest('hex').slice(0, 16);
}

/**
 * One level a restated partition rewrites: the restated target itself, or a level of a chain below it as a task of
 * its own (its view's query re-pointed at the shadow of the table it reads), with where its ledger row goes, what
 * its definition hash is made of, and how a failed check names it.
 */
interface Level {
  task: ViewRestatePartitionTask;
  /** The restated target's ledger, for every level. */
  ledger: TableRef;
  /** The stored query and the live table it reads (a level's task reads a shadow); absent on a rollback. */
  definition?: { source: TableRef; build: ViewRestateBuild };
  label: string;
  /** A level of a chain below the restated target. */
  chained: boolean;
}

/**
 * The levels a restated partition rewrites, in the order they are built: the target, then each level of its chain
 * after the level it reads. A level's view reads the shadow of the level above, re-pointed token-exactly (the
 * import's re-pointing). On a rollback of a chain every level's rows come from its own backup (the task's `rows`
 * count every level's; 0: nothing was kept, so each level is emptied); a missing backup fails non-retryably.
 */
async function levelsOf(ch: ClickHouse, task: ViewRestatePartitionTask): Promise<Level[]> {
  const ledger = { database: task.target.database, name: task.job.ledger.table };
  const top: Level = {
    task,
    ledger,
    definition: isRestating(task) ? { source: task.source, build: task.build } : undefined,
    label: task.partition.id,
    chained: false,
  };
  if (!task.chain) return [top];
  const id = task.partition.id;
  const dialect = dialectOf(task.server);
  const keptRows = async (from: TableRef): Promise<number> => {
    if (task.build.kind !== 'restore' || task.build.rows === 0) return 0;
    if (!(await tableExists(ch, from))) {
      throw new BackupMissingError(`backup table ${qualifiedName(from)} no longer exists (its retention ended)`);
    }
    return partitionRows(ch, from, id, dialect);
  };
  const levels: Level[] = [];
  const base = { ...task, chain: undefined, maxShrink: undefined };
  if (task.build.kind === 'restore') {
    const from = task.build.from;
    levels.push({ ...top, task: { ...base, build: { kind: 'restore', from, rows: await keptRows(from) } } });
  } else levels.push({ ...top, task: base });
  const shadows = new Map([[qualifiedName(task.target), task.shadow]]);
  for (const level of task.chain) {
    shadows.set(qualifiedName(level.target), level.shadow);
    const common = {
      ...base,
      target: level.target,
      shadow: level.shadow,
      backup: level.backup,
      ledger,
      label: `${id} of ${qualifiedName(level.target)}`,
      chained: true,
    };
    const b = level.build;
    if (b.kind === 'restore') {
      const build = { kind: 'restore' as const, from: b.from, rows: await keptRows(b.from) };
      levels.push({ task: { ...common, build }, ledger, label: common.label, chained: true });
      continue;
    }
    const { view, reads, ...stored } = b;
    const readsShadow = shadows.get(qualifiedName(reads));
    if (!readsShadow) throw new Error(`chain level ${qualifiedName(view)} reads ${qualifiedName(reads)}, not above it`);
    const build = { ...stored, select: repointViewSelect(stored.select, reads, readsShadow) };
    levels.push({
      task: { ...common, job: { ...task.job, view: qualifiedName(view) }, source: reads, build },
      ledger,
      definition: { source: reads, build: stored },
      label: common.label,
      chained: true,
    });
  }
  return levels;
}

/**
 * The steps of a view restate's partition (`swap: 'replace'` with a `view-restate` build): the view's stored query
 * over the source, filtered to the partition, fills the writer's shadow; validation compares what stays exact in
 * the target's engine against the same query; backup and `REPLACE PARTITION` are the aggregate kind's. Only `swap`
 * changes the live target, atomically; the ledger records it in the same activity.
 *
 * A chain (the task's `chain`: views fed from the target, A → A_target → B → B_target) is rewritten level by
 * level in each step: every level's shadow is made and filled (B's from A's shadow with B's stored query
 * re-pointed at it), validated (B's shadow against that query, and no row of it outside the partition), backed
 * up, and swapped deepest first (B_target, then A_target), each with its ledger row. The validation's shadow and
 * live rows (the shrink guard's) and the backup's rows are every level's together.
 *
 * Durability: `prepare` drops before it creates; the build kills earlier build queries and truncates before it
 * inserts; the backup and swap are those of every replacing kind (idempotent, retried safely: a retried swap of a
 * chain replaces the levels already swapped again from the same shadows); the ledger row is keyed by the partition
 * workflow's run and the level's target.
 */
export function viewRestateSteps(deps: ActivityDeps): KindSteps<ViewRestatePartitionTask> {
  const { clickhouse: ch, log, onStep } = deps;
  const restating = statementSteps(deps, viewRestateStatements);
  /** The source's fingerprint of the partition's rows (by `sourceDay`), read before the build's INSERT. */
  const sourceSnapshotOf = async (task: ViewRestatePartitionTask, b: ViewRestateBuild) => {
    if (!b.sourceDay) return undefined;
    const granularity = b.partitionBy?.fn === 'toYYYYMMDD' ? 'day' : 'month';
    const snapshots = await sourceSnapshots(ch, task.source, { dateExpr: b.sourceDay, granularity }, task.partition);
    return snapshots && (snapshots.get(task.partition.id) ?? emptySnapshot());
  };
  const dialectRun = async (statements: Statement[], task: ViewRestatePartitionTask) => {
    for (const statement of statements) await runDdl(ch, statement, dialectOf(task.server));
  };

  /**
   * A rollback's build: the restate's backup of the partition attached to the shadow (nothing when the partition
   * was empty before, so the swap empties it); a backup dropped after its retention fails non-retryably.
   */
  const restore = (task: ViewRestatePartitionTask, from: TableRef, rows: number, fresh: boolean) =>
    runStep(task, 'insert', async () => {
      if (rows > 0 && !(await tableExists(ch, from))) {
        throw new BackupMissingError(`backup table ${qualifiedName(from)} no longer exists (its retention ended)`);
      }
      const dialect = dialectOf(task.server);
      if (!fresh) await ch.exec(truncateTable(task.shadow));
      await onStep?.('insert:started', task.partition.id);
      if (rows > 0) {
        for (const statement of dialect.syncBeforeAlter(from)) await runStatement(ch, statement, dialect);
        await ch.exec(dialect.partitionAlter(attachPartitionFrom(task.shadow, from, task.partition.id)));
        for (const statement of dialect.syncAfterFill(task.shadow)) await runStatement(ch, statement, dialect);
      }
      await onStep?.('insert:finished', task.partition.id);
      return {};
    });

  const record = async (
    level: Level,
    context: SwapContext | undefined,
    swap: { action: SwapResult['action']; targetRows: number },
  ) => {
    const { task } = level;
    const execution = Context.current().info.workflowExecution ?? {
      workflowId: task.shadow.name,
      runId: task.shadow.name,
    };
    // What the build read of the source just before its INSERT: a change after it looks changed later, never not.
    // Only the restated target's row carries it: a chain's level reads the new rows of the level above, and the
    // restated target's row (swapped last) vouches for every level of the partition.
    const fingerprint = isRestating(task) && !level.chained ? context?.build.source?.fingerprint : undefined;
    const row: LedgerRecord = {
      target: level.ledger.database === task.target.database ? task.target.name : qualifiedName(task.target),
      partition: task.partition.id,
      writer: context?.writer ?? execution.workflowId,
      writer_run: execution.runId,
      build: task.build.kind,
      action: swap.action,
      job_hash: level.definition ? restateDefinitionHash(level.definition.source, level.definition.build) : '',
      source: qualifiedName(task.source),
      ...fingerprintColumns(fingerprint),
      note:
        task.build.kind === 'restore'
          ? `restored from ${qualifiedName(task.build.from)}`
          : level.chained
            ? `restated from view ${task.job.view} in a chain, reading ${qualifiedName(task.source)}`
            : `restated from view ${task.job.view}${fingerprint ? '' : '; no source fingerprint'}`,
      target_rows: swap.targetRows,
      rows_read: level.chained ? 0 : (context?.rowsRead ?? 0),
      build_ms: level.chained ? 0 : (context?.build.durationMs ?? 0),
      peak_memory: level.chained ? null : (context?.build.peakMemoryBytes ?? null),
    };
    await insertLedgerRecord(ch, level.ledger, row, dialectOf(task.server));
    log.info('restate recorded in the ledger', { partition: task.partition.id, target: qualifiedName(task.target) });
  };

  /** One level's validation: against its view query, or (a rollback) against the rows its backup kept. */
  const validateLevel = async ({ task, label, chained }: Level) => {
    const dialect = dialectOf(task.server);
    const { partition, build: b } = task;
    if (b.kind === 'restore') {
      // The backup must still hold what the restate recorded keeping: nothing else may have touched it.
      const shadowRows = await partitionRows(ch, task.shadow, partition.id, dialect);
      const checks = [validationCheck('rows = rows kept before the restate', b.rows, shadowRows, 0)];
      return validated(ch, task, { rowsRead: b.rows, checks, shadowRows }, label);
    }
    const statements = viewRestateStatements({ ...task, build: b });
    const target = {
      ...b,
      target: task.target,
      shadow: task.shadow,
      relativeTolerance: task.job.validation.relativeTolerance,
    };
    const { rowsRead, checks, shadowRows } = await viewQueryChecks(ch, target, (reads) => ({
      source: statements.sourceTotals(reads),
      shadow: statements.shadowTotals(reads),
    }));
    if (chained) {
      // Rows of the level's view over the partition above that its partition function puts elsewhere.
      const [outside] = await ch.rows(selectRestateRowsOutside(b, partition.id));
      checks.push(validationCheck(`view output rows outside partition ${partition.id}`, 0, outside.rows, 0));
    }
    const parts = shadowRows !== undefined ? { shadowRows } : {};
    return validated(ch, task, { rowsRead: Number(rowsRead), checks, ...parts }, label);
  };

  /** Runs `step` on every level, in build order (or reversed: deepest first). */
  const eachLevel = async <T>(task: ViewRestatePartitionTask, step: (level: Level) => Promise<T>, reversed = false) => {
    const levels = await levelsOf(ch, task);
    const results: T[] = [];
    for (const level of reversed ? levels.reverse() : levels) results.push(await step(level));
    return results;
  };
  const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);

  return {
    prepare: async (task) => {
      const timings = await eachLevel(task, ({ task: t }) =>
        runStep(t, 'prepare', async () => {
          await dialectRun(replacingPartitionStatements(t).prepare, t);
          return {};
        }),
      );
      return { durationMs: sum(timings.map((t) => t.durationMs)) };
    },

    build: async (task, options) => {
      const built = await eachLevel(task, async ({ task: t, chained }) => {
        const b = t.build;
        if (b.kind !== 'view-restate') return restore(t, b.from, b.rows, options.fresh === true);
        // The source's fingerprint, of the restated target's level only (a chain's levels read shadows).
        const source = chained ? undefined : await sourceSnapshotOf(t, b);
        const done = await restating.build({ ...t, build: b });
        return source ? { ...done, source } : done;
      });
      if (built.length === 1) return built[0];
      return { ...built[0], durationMs: sum(built.map((b) => b.durationMs)) };
    },

    /**
     * The shadow's partition against the view's stored query over the partition: what stays exact in the target's
     * engine whatever it merges (`comparisonFor`: rows and sums, keys and sums, keys, or rows after FINAL); each
     * level of a chain likewise against its view over the level above's shadow.
     */
    validate: (task) =>
      runStep(task, 'validate', async () => {
        const results = [];
        for (const level of await levelsOf(ch, task)) results.push(await validateLevel(level));
        if (results.length === 1) return results[0];
        return {
          rowsRead: results[0].rowsRead,
          checks: results.flatMap((r, i) =>
            i === 0
              ? r.checks
              : r.checks.map((c) => ({ ...c, name: `${qualifiedName(task.chain![i - 1].target)}: ${c.name}` })),
          ),
          shadowRows: sum(results.map((r) => r.shadowRows)),
          liveRows: sum(results.map((r) => r.liveRows)),
        };
      }),

    backup: async (task) => {
      const kept = await eachLevel(task, ({ task: t }) => replacingBackup(deps, t, replacingPartitionStatements(t)));
      return { durationMs: sum(kept.map((k) => k.durationMs)), backupRows: sum(kept.map((k) => k.backupRows)) };
    },

    swap: async (task, context) => {
      // Deepest first: a level's live partition is replaced only once every level it feeds holds its new rows.
      const swapped = await eachLevel(
        task,
        (level) => {
          // A chain's validated rows are every level's: each level's swap counts its own shadow.
          const own = task.chain && context ? { ...context, validatedRows: undefined } : context;
          const t = level.task;
          return replacingSwap(deps, t, replacingPartitionStatements(t), (swap) => record(level, own, swap), own);
        },
        true,
      );
      const top = swapped[swapped.length - 1];
      return { ...top, durationMs: sum(swapped.map((s) => s.durationMs)) };
    },

    drop: async (task) => {
      const dropped = await eachLevel(task, ({ task: t }) =>
        runStep(t, 'cleanup', async () => {
          await dialectRun(replacingPartitionStatements(t).cleanup, t);
          await onStep?.('cleanup:dropped', t.partition.id);
          return {};
        }),
      );
      return { durationMs: sum(dropped.map((d) => d.durationMs)) };
    },
  };
}
