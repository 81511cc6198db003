import { CancelledFailure } from '@temporalio/common';
import type { TableRef, ValidationCheck, ViewPartitionTask } from '../shared/backfill-results';
import { createTableLike, dropTableIfExists, truncateTable } from '../sql/partition-ops';
import {
  additiveAggregates,
  createNullFillTable,
  createNullFillView,
  dropViewIfExists,
  insertNullFill,
  insertViewRange,
  movePartitionTo,
  selectViewSourceTotals,
  selectViewTableTotals,
  viewShape,
  viewTotalAlias,
} from '../sql/view';
import type { ActivityDeps } from './deps';
import { SwapVerificationError, ValidationMismatchError } from './errors';
import {
  buildQueries,
  partitionRows,
  runStep,
  type BuildResult,
  type StepTiming,
  type SwapResult,
  type ValidateResult,
} from './step-runner';
import { validationCheck } from './validation-check';

/**
 * The Null-engine fill's two helper objects of one writer's shadow: a Null table and the copy of the view that
 * reads it and writes the shadow. Named after the shadow, so they are as unique to the writer as it is.
 */
export function nullFillObjects(shadow: TableRef): { nullTable: TableRef; view: TableRef } {
  return {
    nullTable: { database: shadow.database, name: `${shadow.name}_null` },
    view: { database: shadow.database, name: `${shadow.name}_mv` },
  };
}

/**
 * The steps of a view job's partition, run by the partition workflow's activities when the task says `swap:
 * 'append'`. The shadow gets the view's SELECT over the partition's rows before the cutoff; the live target gets
 * the shadow's parts in one `MOVE PARTITION`, added to what the live view wrote there.
 *
 * Exactly once: the fill truncates the shadow first, and the workflow never runs it again once the move was
 * scheduled; the move takes the parts out of the shadow atomically, so a retried move finds nothing left to move.
 */
export function viewPartitionSteps({ clickhouse: ch, log, onStep }: ActivityDeps) {
  const dropHelpers = async (task: ViewPartitionTask): Promise<void> => {
    const { nullTable, view } = nullFillObjects(task.shadow);
    // The view first: it writes into the shadow and reads the Null table.
    await ch.exec(dropViewIfExists(view));
    await ch.exec(dropTableIfExists(nullTable));
  };

  return {
    /** The shadow afresh, shaped like the target; for a Null-engine fill also the Null table and the view copy. */
    async prepare(task: ViewPartitionTask): Promise<StepTiming> {
      return runStep(task, 'prepare', async () => {
        await dropHelpers(task);
        await ch.exec(dropTableIfExists(task.shadow));
        await ch.exec(createTableLike(task.shadow, task.target));
        if (task.job.fill === 'null') {
          const shape = viewShape(task.job);
          const { nullTable, view } = nullFillObjects(task.shadow);
          await ch.exec(createNullFillTable(shape, nullTable, task.source));
          await ch.exec(createNullFillView(shape, view, nullTable, task.shadow));
        }
        return {};
      });
    },

    /** Truncates the shadow, then fills it: one INSERT … SELECT of the view's query, or one INSERT into the Null table. */
    async build(task: ViewPartitionTask): Promise<BuildResult> {
      const shape = viewShape(task.job);
      const { queryId, killEarlier } = buildQueries(ch, task);
      const { partition, build } = task;
      return runStep(task, 'insert', async (signal) => {
        await killEarlier();
        try {
          await ch.exec(truncateTable(task.shadow), { signal });
          await onStep?.('insert:started', partition.id);
          const insert =
            task.job.fill === 'null'
              ? insertNullFill(shape, task.source, nullFillObjects(task.shadow).nullTable, partition.id, build.cutoff)
              : insertViewRange(shape, task.source, task.shadow, partition.id, build.cutoff);
          await ch.exec(insert, { signal, settings: task.job.insertSettings, queryId });
        } catch (err) {
          if (!signal.aborted) throw err;
          await killEarlier();
          throw new CancelledFailure('the build was cancelled', undefined, err as Error);
        }
        await onStep?.('insert:finished', partition.id);
        return { rowsWritten: await partitionRows(ch, task.shadow, partition.id) };
      });
    },

    /**
     * The shadow against the source rows before the cutoff: the same distinct groups, and each additive aggregate's
     * total (a `count()` aggregate sums to the source's rows: none lost or doubled). Totals are read through
     * `sum`/`-Merge`, so they hold whatever the shadow's merge state and however many blocks a Null fill wrote.
     */
    async validate(task: ViewPartitionTask): Promise<ValidateResult> {
      const shape = viewShape(task.job);
      const { partition, build } = task;
      return runStep(task, 'validate', async () => {
        const [source] = await ch.rows(selectViewSourceTotals(shape, task.source, partition.id, build.cutoff));
        const [shadow] = await ch.rows(selectViewTableTotals(shape, task.shadow, partition.id));
        const checks: ValidationCheck[] = [];
        const check = (name: string, expected: string, actual: string, tolerance: number) =>
          checks.push(validationCheck(name, expected, actual, tolerance));
        check('groups = distinct groups of the source', source.groups, shadow.groups, 0);
        additiveAggregates(shape).forEach((a, i) => {
          const alias = viewTotalAlias(i);
          const exact = a.metric.fn === 'count';
          check(exact ? `${a.name} = source rows` : `total ${a.name}`, source[alias], shadow[alias], exact ? 0 : 1e-9);
        });
        if (checks.some((c) => !c.ok)) throw new ValidationMismatchError(partition.id, checks);
        return {
          rowsRead: Number(source.rows),
          checks,
          shadowRows: await partitionRows(ch, task.shadow, partition.id),
          liveRows: await partitionRows(ch, task.target, partition.id),
        };
      });
    },

    /**
     * Appends the shadow's partition to the live target with `MOVE PARTITION`, then checks that the shadow holds
     * nothing in it any more. A retry after a crash (before or after the move landed) moves what is left: nothing
     * once it landed, so the target gains the shadow's rows exactly once.
     */
    async append(task: ViewPartitionTask): Promise<SwapResult> {
      const id = task.partition.id;
      return runStep(task, 'swap', async () => {
        await ch.exec(movePartitionTo(task.shadow, task.target, id));
        await onStep?.('move:done', id);
        const left = await partitionRows(ch, task.shadow, id);
        if (left !== 0) {
          throw new SwapVerificationError(`partition ${id}: the shadow still holds ${left} rows after MOVE PARTITION`);
        }
        log.info('partition appended', { partition: id });
        return { action: 'moved' as const };
      });
    },

    /** Drops the shadow and the Null-engine fill's objects. Durability: every drop is `IF EXISTS`. */
    async drop(task: ViewPartitionTask): Promise<StepTiming> {
      return runStep(task, 'cleanup', async () => {
        await dropHelpers(task);
        await ch.exec(dropTableIfExists(task.shadow));
        await onStep?.('cleanup:dropped', task.partition.id);
        return {};
      });
    },
  };
}
