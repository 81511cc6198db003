import { CancelledFailure } from '@temporalio/common';
import type { ClickHouse } from '../clickhouse/clickhouse';
import { loggedPeak } from '../clickhouse/query-memory';
import type { ValidationCheck } from '../shared/backfill-results';
import { nextDay } from '../shared/days';
import { insertAggregation } from '../sql/aggregation';
import { additiveMetrics, aggregationShape, rowCountMetric, type AggregationShape } from '../sql/aggregation-shape';
import { deleteDay, selectDaySplitTotals } from '../sql/daily-ops';
import { attachPartitionFrom, dropTableIfExists } from '../sql/partition-ops';
import { metricTotalAlias, selectSourceTotals } from '../sql/totals';
import { aggregatePartitionStatements } from './aggregate-partition-statements';
import type { ActivityDeps } from './deps';
import { BackupMissingError, SwapVerificationError, ValidationMismatchError } from './errors';
import { recordSwap, type SwapContext } from './ledger';
import { emptySnapshot, sourceSnapshots } from './source-fingerprint';
import {
  buildQueries,
  partitionRows,
  runStep,
  tableExists,
  type BuildResult,
  type BackupResult,
  type StepTiming,
  type SwapResult,
  type ValidateResult,
} from './step-runner';
import { importBatchSteps } from './import-steps';
import { viewPartitionSteps } from './view-steps';
import { validationCheck } from './validation-check';
import { qualifiedName, type TableRef } from '../shared/table-ref';
import type { AggregatePartitionTask, PartitionTask } from '../shared/partition-task';

/** The checks of a rebuilt partition against the source partition. */
export async function rebuildChecks(ch: ClickHouse, shape: AggregationShape, task: AggregatePartitionTask) {
  const { mode, relativeTolerance } = task.job.validation;
  const counter = rowCountMetric(shape);
  const groups = mode === 'full' || counter === undefined;
  const [sourceTotals, shadowTotals] = aggregatePartitionStatements(task).validate;
  const [source] = await ch.rows(sourceTotals);
  const [shadow] = await ch.rows(shadowTotals);
  const checks: ValidationCheck[] = [];
  additiveMetrics(shape).forEach((m, i) => {
    const alias = metricTotalAlias(i);
    if (m.name === counter) checks.push(validationCheck(`sum(${m.name}) = source rows`, source.rows, shadow[alias], 0));
    else if (mode === 'full')
      checks.push(validationCheck(`sum(${m.name})`, source[alias], shadow[alias], relativeTolerance));
  });
  if (groups) checks.push(validationCheck('rows = distinct keys and dates', source.groups, shadow.rows, 0));
  return { rowsRead: Number(source.rows), checks, shadowRows: Number(shadow.rows) };
}

/** The checks of a partition with one day rebuilt: that day against the source, the other days against the live. */
async function dayChecks(ch: ClickHouse, shape: AggregationShape, task: AggregatePartitionTask, day: string) {
  const { mode, relativeTolerance } = task.job.validation;
  const counter = rowCountMetric(shape);
  const groups = mode === 'full' || counter === undefined;
  const range = { start: day, end: nextDay(day) };
  const [source] = await ch.rows(selectSourceTotals(shape, task.source, range, groups, mode === 'full'));
  const [shadow] = await ch.rows(selectDaySplitTotals(shape, task.shadow, task.partition.id, day));
  const [live] = await ch.rows(selectDaySplitTotals(shape, task.target, task.partition.id, day));
  const checks: ValidationCheck[] = [];
  const add = (name: string, expected: string | number, actual: string | number, tolerance: number) =>
    checks.push(validationCheck(name, expected, actual, tolerance));
  additiveMetrics(shape).forEach((m, i) => {
    const alias = metricTotalAlias(i);
    if (m.name === counter) add(`${day}: sum(${m.name}) = source rows`, source.rows, shadow[`day_${alias}`], 0);
    else if (mode === 'full') add(`${day}: sum(${m.name})`, source[alias], shadow[`day_${alias}`], relativeTolerance);
    // Same rows, but float sums depend on the order of parts: exact for integers, within tolerance for floats.
    add(`other days: sum(${m.name}) unchanged`, live[`other_${alias}`], shadow[`other_${alias}`], relativeTolerance);
  });
  if (groups) add(`${day}: rows = distinct keys`, source.groups, shadow.day_rows, 0);
  add('other days: rows unchanged', live.other_rows, shadow.other_rows, 0);
  return { rowsRead: Number(source.rows), checks };
}

/**
 * The steps of one partition writer over its own shadow table (`<target>_v2_<partition>_<writer>`). The live
 * target changes only in `swapPartition`, atomically; every other step touches the shadow or the backup only.
 */
export function partitionSteps(deps: ActivityDeps) {
  const { clickhouse: ch, log, onStep } = deps;
  const view = viewPartitionSteps(deps);
  const batch = importBatchSteps(deps);
  /**
   * Fills the shadow's partition as the task's build says (see `buildShadow`); `fresh`: the shadow was just made
   * afresh, so it needs no truncate. `rowsWritten` only where the build counts them itself (a day, a view, a batch).
   */
  const build = async (
    task: PartitionTask,
    options: { fresh?: boolean } = {},
  ): Promise<Omit<BuildResult, 'rowsWritten'> & { rowsWritten?: number }> => {
    if (task.swap === 'append') return view.build(task);
    if (task.swap === 'move-all') return batch.build(task);
    const shape = aggregationShape(task.job);
    const { queryId, killEarlier } = buildQueries(ch, task);
    const { build, partition } = task;
    const statements = aggregatePartitionStatements(task);
    return runStep(task, 'insert', async (signal) => {
      if (build.kind === 'restore' && build.rows > 0 && !(await tableExists(ch, build.from))) {
        throw new BackupMissingError(
          `backup table ${qualifiedName(build.from)} no longer exists (dropped when its retention ended)`,
        );
      }
      // The one build activity stopped this run's earlier build queries already, before it dropped the shadow.
      if (!options.fresh) await killEarlier();
      let source;
      try {
        // A shadow just made afresh is empty: only a build on its own (a retry, a redo) must empty it.
        if (!options.fresh) await ch.exec(statements.truncate, { signal });
        if (build.kind !== 'restore') {
          const snapshots = await sourceSnapshots(
            ch,
            task.source,
            shape.granularity,
            statements.fingerprint,
            task.sourceHasParts,
          );
          source = snapshots && (snapshots.get(partition.id) ?? emptySnapshot());
        }
        await onStep?.('insert:started', partition.id);
        if (build.kind === 'rebuild') {
          await ch.exec(statements.insert, { signal, settings: task.job.insertSettings, queryId });
        } else if (build.kind === 'day') {
          await ch.exec(attachPartitionFrom(task.shadow, task.target, partition.id), { signal });
          await ch.exec(deleteDay(task.shadow, shape.dateColumn, build.day), { signal });
          const range = { start: build.day, end: nextDay(build.day) };
          const insert = insertAggregation(shape, task.source, task.shadow, range, partition.salt);
          await ch.exec(insert, { signal, settings: task.job.insertSettings, queryId });
        } else if (build.rows > 0) {
          await ch.exec(attachPartitionFrom(task.shadow, build.from, partition.id), { signal });
        }
      } catch (err) {
        if (!signal.aborted) throw err;
        // Cancelled (pause --now, or the partition cancelled): stop our query, then report a cancellation, not
        // the aborted query's error, so the workflow redoes the build instead of failing the partition.
        await killEarlier();
        throw new CancelledFailure('the build was cancelled', undefined, err as Error);
      }
      await onStep?.('insert:finished', partition.id);
      const peakMemoryBytes = build.kind === 'restore' || ch.embedded ? undefined : await loggedPeak(ch, queryId);
      if (build.kind === 'day') {
        const [split] = await ch.rows(selectDaySplitTotals(shape, task.shadow, partition.id, build.day));
        return { rowsWritten: Number(split.day_rows), source, peakMemoryBytes };
      }
      // The shadow's rows are counted by whoever needs them: validation counts them anyway.
      return { source, peakMemoryBytes };
    });
  };

  const steps = {
    /**
     * Creates the shadow table afresh, shaped like the target.
     * Durability: drop-if-exists then create, so a retry after any crash starts from the same empty table.
     */
    async prepareShadow(task: PartitionTask): Promise<StepTiming> {
      if (task.swap === 'append') return view.prepare(task);
      if (task.swap === 'move-all') return batch.prepare(task);
      return runStep(task, 'prepare', async () => {
        for (const statement of aggregatePartitionStatements(task).prepare) await ch.exec(statement);
        return {};
      });
    },

    /**
     * Fills the shadow's partition as the task's build says: the (salted) aggregation of the source partition; the
     * live partition (hard links) with one day deleted and re-aggregated; or the backup's copy of the partition.
     * Before a rebuild or a day's INSERT it reads the source's fingerprint of the partition (for the ledger row the
     * swap writes): a change after that read makes the partition look changed later, never unchanged. On a server
     * it also reads the INSERT's peak memory from the query log.
     *
     * Durability: truncates the shadow first, so a retry never adds to a partial one; heartbeats while it runs. On
     * a server the heavy query runs under a query id derived from the partition workflow's run: a retried or
     * redone build (after a crash, or `pause --now`) finds every earlier build query of the run by that prefix and
     * kills it (`KILL QUERY … SYNC`, which waits) before its truncate, and a cancelled build kills its own query
     * before it reports the cancellation. chDB has no KILL QUERY and runs one query at a time, so there the
     * truncate waits for an abandoned query to end, then clears what it wrote.
     */
    async buildShadow(task: PartitionTask): Promise<BuildResult> {
      const built = await build(task);
      return { ...built, rowsWritten: built.rowsWritten ?? (await partitionRows(ch, task.shadow, task.partition.id)) };
    },

    /**
     * The shadow prepared, built and validated in one activity: `prepareShadow`, `buildShadow` and
     * `validateShadow` in turn, each timed as its own step. One activity instead of two and two local ones spares
     * the partition's writer two workflow tasks and a server round trip, most of what a small partition costs.
     * A rebuild's written rows are the shadow's rows as validation counts them (nothing else writes the shadow).
     *
     * Durability: each attempt starts from a fresh shadow (dropped and created), so a retry after a crash at any
     * point repeats the whole step; nothing here touches the live table. The workflow schedules the swap only
     * once this activity's result, validation included, is in its history. A mismatch fails the partition
     * non-retryably. A cancelled build (`pause --now`) is reported as a cancellation and redone after the resume.
     */
    async buildValidatedShadow(
      task: PartitionTask,
    ): Promise<{ prepare: StepTiming; build: BuildResult; validate: ValidateResult }> {
      // On a server an earlier attempt's INSERT may still run: stopped before its shadow is dropped and made anew.
      await buildQueries(ch, task).killEarlier();
      const prepare = await steps.prepareShadow(task);
      const built = await build(task, { fresh: true });
      const validate = await steps.validateShadow(task);
      return { prepare, build: { ...built, rowsWritten: built.rowsWritten ?? validate.shadowRows }, validate };
    },

    /**
     * Checks the shadow: a rebuilt partition against the source (the row-count metric sums to the source's rows,
     * or, without one, output rows equal distinct keys and dates; in full mode also distinct keys and each additive
     * metric's total within tolerance); a rebuilt day against the source for that day and against the live table
     * for the other days; a restored partition against its backup. Also reports the shadow's and the live
     * partition's row counts, for the shrink guard.
     * Durability: read-only. A mismatch fails the partition non-retryably; the live table is untouched.
     */
    async validateShadow(task: PartitionTask): Promise<ValidateResult> {
      if (task.swap === 'append') return view.validate(task);
      if (task.swap === 'move-all') return batch.validate(task);
      const shape = aggregationShape(task.job);
      const { build, partition } = task;
      return runStep(task, 'validate', async () => {
        let outcome: { rowsRead: number; checks: ValidationCheck[]; shadowRows?: number };
        // A rebuild's totals count the shadow's rows themselves: one query to the engine less per partition.
        if (build.kind === 'rebuild') outcome = await rebuildChecks(ch, shape, task);
        else if (build.kind === 'day') outcome = await dayChecks(ch, shape, task, build.day);
        else {
          const shadowRows = await partitionRows(ch, task.shadow, partition.id);
          // The backup must still hold what the backfill recorded keeping: nothing else may have touched it.
          outcome = {
            rowsRead: build.rows,
            checks: [validationCheck('rows = rows kept before the backfill', build.rows, shadowRows, 0)],
            shadowRows,
          };
        }
        const label = build.kind === 'day' ? `${partition.id} (day ${build.day})` : partition.id;
        if (outcome.checks.some((c) => !c.ok)) throw new ValidationMismatchError(label, outcome.checks);
        return {
          rowsRead: outcome.rowsRead,
          checks: outcome.checks,
          shadowRows: outcome.shadowRows ?? (await partitionRows(ch, task.shadow, partition.id)),
          liveRows: await partitionRows(ch, task.target, partition.id),
        };
      });
    },

    /**
     * Keeps the live partition's parts in the writer's backup table by hard links (`ATTACH PARTITION … FROM`), so
     * `rollback` can restore it. Runs after validation and before the swap.
     * Durability: creates the backup table if missing, drops the partition there, then attaches it from the live
     * table; the live table has not changed yet (the swap comes after this step completes), so a retry keeps the
     * same rows.
     */
    async backupPartition(task: PartitionTask): Promise<BackupResult> {
      const backup = task.backup;
      if (!backup) throw new Error(`partition ${task.partition.id}: backupPartition called without a backup table`);
      return runStep(task, 'backup', async () => {
        for (const statement of aggregatePartitionStatements(task).backup) await ch.exec(statement);
        await onStep?.('backup:kept', task.partition.id);
        return { backupRows: await partitionRows(ch, backup, task.partition.id) };
      });
    },

    /**
     * Makes the live partition equal the shadow's, atomically: `REPLACE PARTITION` from the shadow, or, when the
     * shadow holds nothing in the partition (the source has no rows there), `DROP PARTITION` — never a REPLACE from
     * an empty source, whose outcome depends on the server version. Then checks from part metadata that the target
     * partition holds exactly the shadow's rows (REPLACE hard-links the shadow's parts; a difference means
     * something else wrote there meanwhile, and the retried swap replaces it again). Then records the swap in the
     * job's ledger (src/activities/ledger.ts), with what `context` says of the build. `context.validatedRows`, when
     * given, are the shadow's rows as validation counted them, so the swap need not count them again.
     * Durability: the shadow stays intact, so repeating the swap after a crash gives the same target; the ledger
     * row is keyed by the partition workflow's run, so a repeated record is kept once.
     */
    async swapPartition(task: PartitionTask, context?: SwapContext): Promise<SwapResult> {
      if (task.swap === 'append') return view.append(task);
      if (task.swap === 'move-all') return batch.moveAll(task);
      const id = task.partition.id;
      const statements = aggregatePartitionStatements(task);
      return runStep(task, 'swap', async () => {
        const shadowRows = context?.validatedRows ?? (await partitionRows(ch, task.shadow, id));
        let action: SwapResult['action'] = 'unchanged';
        if (shadowRows > 0) {
          await ch.exec(statements.replace);
          action = 'replaced';
        } else if ((await partitionRows(ch, task.target, id)) > 0) {
          await ch.exec(statements.empty);
          action = 'dropped';
        }
        await onStep?.('swap:replaced', id);
        const targetRows = await partitionRows(ch, task.target, id);
        if (targetRows !== shadowRows) {
          throw new SwapVerificationError(
            `partition ${id} of the target holds ${targetRows} rows after the swap, the shadow ${shadowRows}`,
          );
        }
        log.info('partition swapped in', { partition: id, rows: targetRows, action });
        await recordSwap(deps, task, context, { action, targetRows });
        return { action };
      });
    },

    /** Drops the shadow table. Durability: `DROP TABLE IF EXISTS`, a no-op when repeated. */
    async dropShadow(task: PartitionTask): Promise<StepTiming> {
      if (task.swap === 'append') return view.drop(task);
      if (task.swap === 'move-all') return batch.drop(task);
      return runStep(task, 'cleanup', async () => {
        for (const statement of aggregatePartitionStatements(task).cleanup) await ch.exec(statement);
        await onStep?.('cleanup:dropped', task.partition.id);
        return {};
      });
    },

    /**
     * Drops a writer's backup table once its retention has ended. Durability: `DROP TABLE IF EXISTS`, a no-op
     * when repeated.
     */
    async dropBackup(backup: TableRef): Promise<void> {
      await ch.exec(dropTableIfExists(backup));
      log.info('backup dropped', { backup: qualifiedName(backup) });
    },
  };
  return steps;
}
