import { CancelledFailure } from '@temporalio/common';
import type { ClickHouse } from '../../clickhouse/clickhouse';
import { loggedPeak } from '../../clickhouse/query-memory';
import type { ValidationCheck } from '../../shared/backfill-results';
import type { AggregatePartitionTask, ViewRestatePartitionTask } from '../../shared/partition-task';
import { qualifiedName } from '../../shared/table-ref';
import { nextDay } from '../../shared/days';
import {
  additiveMetrics,
  aggregationShape,
  rowCountMetric,
  type AggregationShape,
} from '../../sql/aggregate/aggregation-shape';
import { selectDaySplitTotals } from '../../sql/daily/daily-ops';
import { metricTotalAlias, selectSourceTotals } from '../../sql/aggregate/totals';
import { aggregatePartitionStatements, type ReplacingStatements } from './aggregate-partition-statements';
import { dialectOf } from '../../sql/engine/server-dialect';
import type { ActivityDeps } from '../engine/deps';
import { BackupIncompleteError, BackupMissingError, SwapVerificationError } from '../engine/errors';
import { recordSwap, type SwapContext } from '../engine/ledger';
import { emptySnapshot, sourceSnapshots } from './source-fingerprint';
import {
  buildQueries,
  partitionRows,
  runStep,
  tableExists,
  validated,
  type BackupResult,
  type SwapResult,
} from '../engine/step-runner';
import { validationCheck } from '../engine/validation-check';
import type { KindSteps } from '../engine/kind-steps';
import { runDdl, runStatement } from '../engine/cluster-ddl';
import { everyReplicaHolds } from '../engine/replica-checks';
import { onShard } from '../engine/shard-client';

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
  const dialect = dialectOf(task.server);
  const [source] = await ch.rows(selectSourceTotals(shape, task.source, range, groups, mode === 'full'));
  // The shadow is our own write, the live partition an earlier run's swap: both read as of every committed part.
  const [shadow] = await ch.rows(
    dialect.consistentRead(selectDaySplitTotals(shape, task.shadow, task.partition.id, day)),
  );
  const [live] = await ch.rows(
    dialect.consistentRead(selectDaySplitTotals(shape, task.target, task.partition.id, day)),
  );
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
 * The steps of an aggregate job's partition (and of a daily run's day, and of a rollback's restore) over its
 * writer's own shadow table (`<target>_v2_<partition>_<writer>`). The live target changes only in `swap`,
 * atomically; every other step touches the shadow or the backup only.
 */
export function aggregateSteps(deps: ActivityDeps): KindSteps<AggregatePartitionTask> {
  const { onStep } = deps;
  // The worker's client, or on a sharded cluster the client to the task's shard.
  const clientOf = (task: AggregatePartitionTask) => onShard(deps, task).clickhouse;
  // The (salted) aggregation of the source partition; the live partition (hard links) with one day deleted and
  // re-aggregated; or the backup's copy of the partition. `fresh`: the shadow was just made, so it needs no truncate.
  const build = async (task: AggregatePartitionTask, options: { fresh?: boolean }) => {
    const ch = clientOf(task);
    const shape = aggregationShape(task.job);
    const { queryId, killEarlier } = buildQueries(ch, task);
    const { build, partition } = task;
    const statements = aggregatePartitionStatements(task);
    const dialect = dialectOf(task.server);
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
          const snapshots = await sourceSnapshots(ch, task.source, shape, partition, task.sourceHasParts);
          source = snapshots && (snapshots.get(partition.id) ?? emptySnapshot());
        }
        await onStep?.('insert:started', partition.id);
        if (build.kind === 'rebuild') {
          await ch.exec(statements.insert, { signal, settings: task.job.insertSettings, queryId });
        } else if (statements.day) {
          for (const statement of statements.day.copy) await runStatement(ch, statement, dialect, { signal });
          await ch.exec(statements.day.delete, { signal });
          await ch.exec(statements.day.insert, { signal, settings: task.job.insertSettings, queryId });
        } else {
          for (const statement of statements.restore) await runStatement(ch, statement, dialect, { signal });
        }
        for (const statement of statements.afterFill) await runStatement(ch, statement, dialect, { signal });
      } catch (err) {
        if (!signal.aborted) throw err;
        // Cancelled (pause --now, or the partition cancelled): stop our query, then report a cancellation, not
        // the aborted query's error, so the workflow redoes the build instead of failing the partition.
        await killEarlier();
        throw new CancelledFailure('the build was cancelled', undefined, err as Error);
      }
      await onStep?.('insert:finished', partition.id);
      const peakMemoryBytes =
        build.kind === 'restore' || ch.embedded ? undefined : await loggedPeak(ch, queryId, dialect);
      if (build.kind === 'day') {
        const [split] = await ch.rows(
          dialect.consistentRead(selectDaySplitTotals(shape, task.shadow, partition.id, build.day)),
        );
        return { rowsWritten: Number(split.day_rows), source, peakMemoryBytes };
      }
      // The shadow's rows are counted by whoever needs them: validation counts them anyway.
      return { source, peakMemoryBytes };
    });
  };

  return {
    prepare: (task) =>
      runStep(task, 'prepare', async () => {
        const ch = clientOf(task);
        const dialect = dialectOf(task.server);
        for (const statement of aggregatePartitionStatements(task).prepare) await runDdl(ch, statement, dialect);
        return {};
      }),

    build,

    validate(task) {
      const shape = aggregationShape(task.job);
      const { build, partition } = task;
      const dialect = dialectOf(task.server);
      const ch = clientOf(task);
      return runStep(task, 'validate', async () => {
        let outcome: { rowsRead: number; checks: ValidationCheck[]; shadowRows?: number };
        // A rebuild's totals count the shadow's rows themselves: one query to the engine less per partition.
        if (build.kind === 'rebuild') outcome = await rebuildChecks(ch, shape, task);
        else if (build.kind === 'day') outcome = await dayChecks(ch, shape, task, build.day);
        else {
          const shadowRows = await partitionRows(ch, task.shadow, partition.id, dialect);
          // The backup must still hold what the backfill recorded keeping: nothing else may have touched it.
          outcome = {
            rowsRead: build.rows,
            checks: [validationCheck('rows = rows kept before the backfill', build.rows, shadowRows, 0)],
            shadowRows,
          };
        }
        return validated(ch, task, outcome, build.kind === 'day' ? `${partition.id} (day ${build.day})` : partition.id);
      });
    },

    backup: (task) => replacingBackup(onShard(deps, task), task, aggregatePartitionStatements(task)),

    // The ledger row goes through the worker's own client: one ledger, read back by the plan through it.
    swap: (task, context) =>
      replacingSwap(
        onShard(deps, task),
        task,
        aggregatePartitionStatements(task),
        (swap) => recordSwap(deps, task, context, swap),
        context,
      ),

    drop: (task) =>
      runStep(task, 'cleanup', async () => {
        const ch = clientOf(task);
        const dialect = dialectOf(task.server);
        for (const statement of aggregatePartitionStatements(task).cleanup) await runDdl(ch, statement, dialect);
        await onStep?.('cleanup:dropped', task.partition.id);
        return {};
      }),
  };
}

/**
 * Keeps the live partition in the task's backup table (hard links), then checks the backup holds at least the
 * live partition's rows: the backup step of every kind that replaces a partition (aggregate jobs, view restates).
 */
export function replacingBackup(
  deps: ActivityDeps,
  task: AggregatePartitionTask | ViewRestatePartitionTask,
  statements: ReplacingStatements,
): Promise<BackupResult> {
  const { clickhouse: ch, onStep } = deps;
  const backup = task.backup;
  if (!backup) throw new Error(`partition ${task.partition.id}: backupPartition called without a backup table`);
  const dialect = dialectOf(task.server);
  const id = task.partition.id;
  return runStep(task, 'backup', async () => {
    const [create, ...copy] = statements.backup;
    await runDdl(ch, create, dialect);
    for (const statement of copy) await runStatement(ch, statement, dialect);
    await onStep?.('backup:kept', id);
    // A replica lacking some of the live parts copies fewer of them: a rollback would then restore less than
    // was live. Both read as of every committed part (sequential consistency on Cloud), and a swap over such a
    // backup refused.
    const backupRows = await partitionRows(ch, backup, id, dialect);
    const liveRows = await partitionRows(ch, task.target, id, dialect);
    if (backupRows < liveRows) {
      throw new BackupIncompleteError(
        `partition ${id}: the backup ${qualifiedName(backup)} holds ${backupRows} rows, ` +
          `the live partition ${liveRows}; the swap is not run`,
      );
    }
    return { backupRows };
  });
}

/**
 * Replaces the live partition with the shadow's (or empties it when the shadow holds none), checks the target and
 * every replica hold the shadow's rows, then records the swap (`record`, the kind's ledger row): the swap step of
 * every kind that replaces a partition.
 */
export function replacingSwap(
  deps: ActivityDeps,
  task: AggregatePartitionTask | ViewRestatePartitionTask,
  statements: ReplacingStatements,
  record: (swap: { action: SwapResult['action']; targetRows: number }) => Promise<void>,
  context?: SwapContext,
): Promise<SwapResult> {
  const { clickhouse: ch, log, onStep } = deps;
  const id = task.partition.id;
  const dialect = dialectOf(task.server);
  return runStep(task, 'swap', async () => {
    const shadowRows = context?.validatedRows ?? (await partitionRows(ch, task.shadow, id, dialect));
    let action: SwapResult['action'] = 'unchanged';
    for (const statement of statements.beforeSwap) await runStatement(ch, statement, dialect);
    if (shadowRows > 0) {
      for (const statement of statements.replace) await runStatement(ch, statement, dialect);
      action = 'replaced';
    } else if ((await partitionRows(ch, task.target, id, dialect)) > 0) {
      await ch.exec(statements.empty);
      action = 'dropped';
    }
    await onStep?.('swap:replaced', id);
    // Read as of every committed part (sequential consistency on Cloud): a replica that cloned fewer of the
    // shadow's parts shows here, and the retried swap replaces again.
    const targetRows = await partitionRows(ch, task.target, id, dialect);
    if (targetRows !== shadowRows) {
      throw new SwapVerificationError(
        `partition ${id} of the target holds ${targetRows} rows after the swap, the shadow ${shadowRows}`,
      );
    }
    // On a replicated cluster every replica must hold the shadow's rows (a replica that cloned fewer parts
    // would serve a short partition): a difference fails the swap, retried, before the ledger records it.
    await everyReplicaHolds(ch, dialect, task.target, id, shadowRows);
    log.info('partition swapped in', { partition: id, rows: targetRows, action });
    await record({ action, targetRows });
    return { action };
  });
}
