import type { Statement } from '../../clickhouse/statement';
import { truncateTable } from '../../sql/engine/partition-ops';
import { dropViewIfExists, movePartitionTo, viewShape } from '../../sql/view/view';
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
  type ViewQuery,
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

/**
 * The view query a partition's steps render from: the job's SQL, or the structured form as the SQL it is shorthand
 * for, reading the task's source (for a Null-engine fill, with what that fill needs through the shadow's Null table).
 */
function taskViewQuery(task: ViewPartitionTask): ViewQuery {
  const vq = viewQuery(task.job);
  if (vq) return vq;
  const nullTable = task.job.fill === 'null' ? nullFillObjects(task.shadow).nullTable : undefined;
  return shorthandViewQuery(viewShape(task.job), task.source, nullTable);
}

/** Renders every statement of a view partition's steps from its task (see {@link ViewPartitionStatements}). */
export function viewPartitionStatements(task: ViewPartitionTask): ViewPartitionStatements {
  const vq = taskViewQuery(task);
  const { partition, build } = task;
  const columns = vq.columns ?? build.columns;
  if (columns === undefined) throw new Error(`partition ${partition.id}: a view given as SQL needs the plan's columns`);
  const dialect = dialectOf(task.server);
  const { nullTable, view } = nullFillObjects(task.shadow);
  // The view first: it writes into the shadow and reads the Null table.
  const dropHelpers = vq.nullFill ? [dialect.ddl(dropViewIfExists(view)), dialect.dropTable(nullTable)] : [];
  return {
    prepare: [
      ...dropHelpers,
      dialect.dropTable(task.shadow),
      dialect.createLike(task.shadow, task.target),
      ...(vq.nullFill
        ? [
            dialect.ddl(
              dialect.createAsSelect
                ? createNullFillTable(vq, nullTable, task.source)
                : createNullFillTableLike(nullTable, task.source),
            ),
            dialect.ddl(createNullFillView(vq, view, task.shadow)),
          ]
        : []),
    ],
    truncate: [truncateTable(task.shadow)],
    insert: vq.nullFill
      ? insertNullFill(vq, task.source, nullTable, partition.id, build.cutoff)
      : insertViewQueryRange(vq, task.shadow, columns, partition.id, build.cutoff),
    afterFill: dialect.syncAfterFill(task.shadow),
    move: moveStatements(task, dialect),
    drop: [...dropHelpers, dialect.dropTable(task.shadow)],
  };
}

/** A view partition's validation (see {@link viewQueryChecks}), against the view query over the task's source. */
function validateView(ch: ActivityDeps['clickhouse'], task: ViewPartitionTask) {
  const { partition, build } = task;
  const vq = taskViewQuery(task);
  const { mode, relativeTolerance } = task.job.validation;
  const target = { ...vq, mode, target: task.target, shadow: task.shadow, relativeTolerance };
  return viewQueryChecks(ch, target, (reads) => ({
    source: selectViewQueryTotals(vq, reads, partition.id, build.cutoff),
    // The shadow, our own write, as of every committed part (Cloud).
    shadow: dialectOf(task.server).consistentRead(
      selectViewQueryTableTotals(vq, reads, task.shadow, partition.id, comparisonFor(vq.engine) === 'final rows'),
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
     * The shadow against the view query's output over the partition's rows before the cutoff (see
     * {@link viewQueryChecks}): read through `sum`/`-Merge`/`uniqExact`, so they hold whatever the shadow's merge
     * state and however many blocks a Null fill wrote.
     */
    async validate(task: ViewPartitionTask): Promise<ValidateResult> {
      return runStep(task, 'validate', async () => {
        const { rowsRead, checks, shadowRows } = await validateView(ch, task);
        return validated(ch, task, {
          rowsRead: Number(rowsRead),
          checks,
          ...(shadowRows !== undefined ? { shadowRows } : {}),
        });
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
