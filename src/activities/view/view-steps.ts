import type { Statement } from '../../clickhouse/statement';
import type { ValidationCheck } from '../../shared/backfill-results';
import { truncateTable } from '../../sql/engine/partition-ops';
import {
  additiveAggregates,
  dropViewIfExists,
  movePartitionTo,
  selectViewSourceTotals,
  selectViewTableTotals,
  viewColumns,
  viewShape,
  viewTotalAlias,
} from '../../sql/view/view';
import { dialectOf, type ServerDialect } from '../../sql/engine/server-dialect';
import {
  comparisonFor,
  createNullFillTable,
  createNullFillTableLike,
  createNullFillView,
  insertNullFill,
  insertViewQueryRange,
  shorthandViewQuery,
  selectViewQueryTableTotals,
  selectViewQueryTotals,
  viewQuery,
  type TimedViewQuery,
} from '../../sql/view/view-sql';
import type { ActivityDeps } from '../engine/deps';
import type { KindSteps } from '../engine/kind-steps';
import { viewQueryChecks } from './view-query-checks';
import { SwapVerificationError } from '../engine/errors';
import { runStatement } from '../engine/cluster-ddl';
import { stepsOnTaskShard } from '../engine/shard-client';
import { nothingLeftOnReplicas } from '../engine/replica-checks';
import { statementSteps, type ShadowStatements } from '../engine/statement-steps';
import { partitionRows, runStep, validated, type SwapResult, type ValidateResult } from '../engine/step-runner';
import { validationCheck } from '../engine/validation-check';
import type { TableRef } from '../../shared/table-ref';
import type { ViewPartitionTask } from '../../shared/partition-task';

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
 * The statements of one view partition's steps, in the order they run: what the steps and a dry run use. `prepare`
 * makes the shadow and the Null-engine fill's objects, `truncate` empties the shadow, `drop` drops them all.
 */
export interface ViewPartitionStatements extends ShadowStatements {
  /**
   * Appends the shadow's partition to the live target (after the target's pending patches are applied): on Cloud
   * after a best-effort sync of the shadow, since `MOVE PARTITION` takes the parts the executing replica sees. The
   * check after it (nothing left in the shadow, read with sequential consistency) is what catches a replica that
   * moved fewer parts; the retried move moves what is left.
   */
  move: Statement[];
}

/**
 * The move of the shadow's partition into the target, after the target's pending patches are applied and the shadow
 * synced (on every replica on a cluster, best effort on Cloud), with `alter_sync` where there are replicas.
 */
function moveStatements(task: ViewPartitionTask, dialect: ServerDialect): Statement[] {
  const { partition } = task;
  return [
    ...dialect.applyPatches(task.target, partition.id),
    ...dialect.syncBeforeAlter(task.shadow),
    dialect.partitionAlter(movePartitionTo(task.shadow, task.target, partition.id)),
  ];
}

/** Renders every statement of a view partition's steps from its task (see {@link ViewPartitionStatements}). */
export function viewPartitionStatements(task: ViewPartitionTask): ViewPartitionStatements {
  const vq = viewQuery(task.job);
  if (vq) return viewQueryPartitionStatements(task, vq);
  const shape = viewShape(task.job);
  const { nullTable, view } = nullFillObjects(task.shadow);
  const { partition, build } = task;
  const dialect = dialectOf(task.server);
  // The view first: it writes into the shadow and reads the Null table.
  const dropHelpers = [dialect.ddl(dropViewIfExists(view)), dialect.dropTable(nullTable)];
  // The fill goes through the SQL path: the structured form as the SQL it is shorthand for (a Null fill through
  // `nullTable`), into the shadow's columns by name.
  const nullFill = task.job.fill === 'null' ? shorthandViewQuery(shape, task.source, nullTable) : undefined;
  return {
    prepare: [
      ...dropHelpers,
      dialect.dropTable(task.shadow),
      dialect.createLike(task.shadow, task.target),
      ...(nullFill
        ? [
            dialect.ddl(
              dialect.createAsSelect
                ? createNullFillTable(nullFill, nullTable, task.source)
                : createNullFillTableLike(nullTable, task.source),
            ),
            dialect.ddl(createNullFillView(nullFill, view, task.shadow)),
          ]
        : []),
    ],
    truncate: [truncateTable(task.shadow)],
    insert: nullFill
      ? insertNullFill(nullFill, task.source, nullTable, partition.id, build.cutoff)
      : insertViewQueryRange(
          shorthandViewQuery(shape, task.source),
          task.shadow,
          viewColumns(shape),
          partition.id,
          build.cutoff,
        ),
    afterFill: dialect.syncAfterFill(task.shadow),
    move: moveStatements(task, dialect),
    drop: [...dropHelpers, dialect.dropTable(task.shadow)],
  };
}

/** The statements of a view given as SQL: the shadow, the ranged fill by column name, the move, the drop. */
function viewQueryPartitionStatements(task: ViewPartitionTask, vq: TimedViewQuery): ViewPartitionStatements {
  const { partition, build } = task;
  if (build.cutoff === undefined || build.columns === undefined) {
    throw new Error(`partition ${partition.id}: a view given as SQL needs the plan's cutoff and output columns`);
  }
  const dialect = dialectOf(task.server);
  return {
    prepare: [dialect.dropTable(task.shadow), dialect.createLike(task.shadow, task.target)],
    truncate: [truncateTable(task.shadow)],
    insert: insertViewQueryRange(vq, task.shadow, build.columns, partition.id, build.cutoff),
    afterFill: dialect.syncAfterFill(task.shadow),
    move: moveStatements(task, dialect),
    drop: [dialect.dropTable(task.shadow)],
  };
}

/** Validation of a view given as SQL (see {@link viewQueryChecks}). */
function validateViewQuery(ch: ActivityDeps['clickhouse'], task: ViewPartitionTask, vq: TimedViewQuery) {
  const { partition, build } = task;
  const target = { ...vq, shadow: task.shadow, relativeTolerance: task.job.validation.relativeTolerance };
  return viewQueryChecks(ch, target, (sums) => ({
    source: selectViewQueryTotals(vq, sums, partition.id, build.cutoff!),
    // The shadow, our own write, as of every committed part (Cloud).
    shadow: dialectOf(task.server).consistentRead(
      selectViewQueryTableTotals(vq, sums, task.shadow, partition.id, comparisonFor(vq.engine) === 'final rows'),
    ),
  }));
}

/**
 * The steps of a view job's partition, run by the partition workflow's activities when the task says `swap:
 * 'append'`. The shadow gets the view's SELECT over the partition's rows before the cutoff; the live target gets
 * the shadow's parts in one `MOVE PARTITION`, added to what the live view wrote there.
 *
 * Exactly once: the fill truncates the shadow first, and the workflow never runs it again once the move was
 * scheduled; the move takes the parts out of the shadow atomically, so a retried move finds nothing left to move.
 */
export function viewPartitionSteps(deps: ActivityDeps): KindSteps<ViewPartitionTask> {
  return stepsOnTaskShard(deps, partitionSteps);
}

/** {@link viewPartitionSteps} with every statement through `deps.clickhouse`. */
function partitionSteps(deps: ActivityDeps): KindSteps<ViewPartitionTask> {
  const { clickhouse: ch, log, onStep } = deps;
  // The shadow afresh, shaped like the target, and for a Null-engine fill the Null table and the view copy; the
  // fill: truncate, then one INSERT … SELECT of the view's query or one INSERT into the Null table; their drops.
  const { prepare, build, drop } = statementSteps(deps, viewPartitionStatements);

  return {
    prepare,
    build,

    /**
     * The shadow against the source rows before the cutoff: the same distinct groups (not in `fast` mode when a
     * `count()` aggregate exists), and each additive aggregate's total (a `count()` aggregate sums to the source's
     * rows: none lost or doubled). Totals are read through
     * `sum`/`-Merge`, so they hold whatever the shadow's merge state and however many blocks a Null fill wrote.
     */
    async validate(task: ViewPartitionTask): Promise<ValidateResult> {
      const { partition, build } = task;
      const vq = viewQuery(task.job);
      if (vq) {
        return runStep(task, 'validate', async () => {
          const { rows, checks } = await validateViewQuery(ch, task, vq);
          return validated(ch, task, { rowsRead: Number(rows), checks });
        });
      }
      const shape = viewShape(task.job);
      return runStep(task, 'validate', async () => {
        const { mode, relativeTolerance } = task.job.validation;
        // Without a count() aggregate the totals cannot show a lost or doubled row: the groups are compared then too.
        const groups = mode === 'full' || !additiveAggregates(shape).some((a) => a.metric.fn === 'count');
        const dialect = dialectOf(task.server);
        // The source as committed; the shadow, our own write, as of every committed part (Cloud).
        const [source] = await ch.rows(selectViewSourceTotals(shape, task.source, partition.id, build.cutoff, groups));
        const [shadow] = await ch.rows(
          dialect.consistentRead(selectViewTableTotals(shape, task.shadow, partition.id, groups)),
        );
        const checks: ValidationCheck[] = [];
        const check = (name: string, expected: string, actual: string, tolerance: number) =>
          checks.push(validationCheck(name, expected, actual, tolerance));
        if (groups) check('groups = distinct groups of the source', source.groups, shadow.groups, 0);
        additiveAggregates(shape).forEach((a, i) => {
          const alias = viewTotalAlias(i);
          const exact = a.metric.fn === 'count';
          const name = exact ? `${a.name} = source rows` : `total ${a.name}`;
          check(name, source[alias], shadow[alias], exact ? 0 : relativeTolerance);
        });
        // The shadow's rows come with its totals: one read fewer per partition.
        return validated(ch, task, { rowsRead: Number(source.rows), checks, shadowRows: Number(shadow.rows) });
      });
    },

    /**
     * Appends the shadow's partition to the live target with `MOVE PARTITION`, then checks that the shadow holds
     * nothing in it any more. A retry after a crash (before or after the move landed) moves what is left: nothing
     * once it landed, so the target gains the shadow's rows exactly once.
     */
    async swap(task: ViewPartitionTask): Promise<SwapResult> {
      const id = task.partition.id;
      return runStep(task, 'swap', async () => {
        const statements = viewPartitionStatements(task);
        const dialect = dialectOf(task.server);
        for (const statement of statements.move) await runStatement(ch, statement, dialect);
        await onStep?.('move:done', id);
        const left = await partitionRows(ch, task.shadow, id, dialect);
        if (left !== 0) {
          throw new SwapVerificationError(`partition ${id}: the shadow still holds ${left} rows after MOVE PARTITION`);
        }
        await nothingLeftOnReplicas(ch, dialect, task.shadow, id);
        log.info('partition appended', { partition: id });
        return { action: 'moved' as const };
      });
    },

    drop,
  };
}
