import { createHash } from 'node:crypto';
import { Context } from '@temporalio/activity';
import type { Statement } from '../../clickhouse/statement';
import type { ViewRestateBuild, ViewRestatePartitionTask } from '../../shared/partition-task';
import { qualifiedName, type TableRef } from '../../shared/table-ref';
import type { LedgerRecord } from '../../sql/engine/ledger';
import { attachPartitionFrom, truncateTable } from '../../sql/engine/partition-ops';
import { dialectOf } from '../../sql/engine/server-dialect';
import { insertRestatedPartition, selectRestateQueryTotals } from '../../sql/view-restate/restate';
import { comparisonFor, selectViewQueryTableTotals } from '../../sql/view/view-sql';
import { replacingPartitionStatements, type ReplacingStatements } from '../aggregate/aggregate-partition-statements';
import { replacingBackup, replacingSwap } from '../aggregate/aggregate-steps';
import type { ActivityDeps } from '../engine/deps';
import { BackupMissingError } from '../engine/errors';
import { runDdl } from '../engine/cluster-ddl';
import type { KindSteps } from '../engine/kind-steps';
import { viewQueryChecks } from '../view/view-query-checks';
import { fingerprintColumns, insertLedgerRecord, type SwapContext } from '../engine/ledger';
import { statementSteps, type ShadowStatements } from '../engine/statement-steps';
import { partitionRows, runStep, tableExists, validated, type SwapResult } from '../engine/step-runner';
import { validationCheck } from '../engine/validation-check';
import { selectSourceFingerprintDays } from '../../sql/aggregate/source-fingerprint';
import { emptySnapshot, sourceSnapshots } from '../aggregate/source-fingerprint';

/**
 * The statements of a restated partition's steps, in the order they run: the shadow, backup and swap of every
 * replacing kind (src/activities/aggregate/aggregate-partition-statements.ts), and the fill from the view's stored
 * query; what the steps send and a dry run prints.
 */
export interface ViewRestateStatements extends ShadowStatements, ReplacingStatements {
  /** Validation's read of the view's output rows of the partition, for `sums` (the target's numeric columns). */
  sourceTotals(sums: string[]): Statement<Record<string, string>>;
  /** The same totals of the shadow's partition (after `FINAL` for a Replacing target), our own write. */
  shadowTotals(sums: string[]): Statement<Record<string, string>>;
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
    sourceTotals: (sums) => selectRestateQueryTotals(build, sums, partition.id),
    shadowTotals: (sums) =>
      dialect.consistentRead(
        selectViewQueryTableTotals(
          { select: build.select, timeColumn: '', engine: build.engine, orderBy: build.orderBy, partitionBy: 'none' },
          sums,
          shadow,
          partition.id,
          comparisonFor(build.engine) === 'final rows',
        ),
      ),
  };
}

/** What decides a restated partition's rows: the source, the view's stored query, the columns and partitioning. */
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
 * The steps of a view restate's partition (`swap: 'replace'` with a `view-restate` build): the view's stored query
 * over the source, filtered to the partition, fills the writer's shadow; validation compares what stays exact in
 * the target's engine against the same query; backup and `REPLACE PARTITION` are the aggregate kind's. Only `swap`
 * changes the live target, atomically; the ledger records it in the same activity.
 *
 * Durability: `prepare` drops before it creates; the build kills earlier build queries and truncates before it
 * inserts; the backup and swap are those of every replacing kind (idempotent, retried safely); the ledger row is
 * keyed by the partition workflow's run.
 */
export function viewRestateSteps(deps: ActivityDeps): KindSteps<ViewRestatePartitionTask> {
  const { clickhouse: ch, log, onStep } = deps;
  const restating = statementSteps(deps, viewRestateStatements);
  /** The source's fingerprint of the partition's rows (by `sourceDay`), read before the build's INSERT. */
  const sourceSnapshotOf = async (task: ViewRestatePartitionTask, b: ViewRestateBuild) => {
    if (!b.sourceDay) return undefined;
    const granularity = b.partitionBy?.fn === 'toYYYYMMDD' ? 'day' : 'month';
    const days = selectSourceFingerprintDays({ dateExpr: b.sourceDay }, task.source, task.partition);
    const snapshots = await sourceSnapshots(ch, task.source, granularity, days);
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
        for (const statement of dialect.syncBeforeAlter(from)) await ch.exec(statement);
        await ch.exec(dialect.partitionAlter(attachPartitionFrom(task.shadow, from, task.partition.id)));
      }
      await onStep?.('insert:finished', task.partition.id);
      return {};
    });

  const record = async (
    task: ViewRestatePartitionTask,
    context: SwapContext | undefined,
    swap: { action: SwapResult['action']; targetRows: number },
  ) => {
    const ledger = { database: task.target.database, name: task.job.ledger.table };
    const execution = Context.current().info.workflowExecution ?? {
      workflowId: task.shadow.name,
      runId: task.shadow.name,
    };
    // What the build read of the source just before its INSERT: a change after it looks changed later, never not.
    const fingerprint = isRestating(task) ? context?.build.source?.fingerprint : undefined;
    const row: LedgerRecord = {
      target: task.target.name,
      partition: task.partition.id,
      writer: context?.writer ?? execution.workflowId,
      writer_run: execution.runId,
      build: task.build.kind,
      action: swap.action,
      job_hash: isRestating(task) ? restateDefinitionHash(task.source, task.build) : '',
      source: qualifiedName(task.source),
      ...fingerprintColumns(fingerprint),
      note:
        task.build.kind === 'restore'
          ? `restored from ${qualifiedName(task.build.from)}`
          : `restated from view ${task.job.view}${fingerprint ? '' : '; no source fingerprint'}`,
      target_rows: swap.targetRows,
      rows_read: context?.rowsRead ?? 0,
      build_ms: context?.build.durationMs ?? 0,
      peak_memory: context?.build.peakMemoryBytes ?? null,
    };
    await insertLedgerRecord(ch, ledger, row, dialectOf(task.server));
    log.info('restate recorded in the ledger', { partition: task.partition.id });
  };

  return {
    prepare: (task) =>
      runStep(task, 'prepare', async () => {
        await dialectRun(replacingPartitionStatements(task).prepare, task);
        return {};
      }),

    build: async (task, options) => {
      const b = task.build;
      if (b.kind !== 'view-restate') return restore(task, b.from, b.rows, options.fresh === true);
      const source = await sourceSnapshotOf(task, b);
      const built = await restating.build({ ...task, build: b });
      return source ? { ...built, source } : built;
    },

    /**
     * The shadow's partition against the view's stored query over the partition: what stays exact in the target's
     * engine whatever it merges (`comparisonFor`: rows and sums, keys and sums, keys, or rows after FINAL).
     */
    validate(task) {
      const dialect = dialectOf(task.server);
      const { partition, build: b } = task;
      if (b.kind === 'restore') {
        // The backup must still hold what the restate recorded keeping: nothing else may have touched it.
        return runStep(task, 'validate', async () => {
          const shadowRows = await partitionRows(ch, task.shadow, partition.id, dialect);
          const checks = [validationCheck('rows = rows kept before the restate', b.rows, shadowRows, 0)];
          return validated(ch, task, { rowsRead: b.rows, checks, shadowRows });
        });
      }
      const statements = viewRestateStatements({ ...task, build: b });
      return runStep(task, 'validate', async () => {
        const target = { ...b, shadow: task.shadow, relativeTolerance: task.job.validation.relativeTolerance };
        const { rows, checks } = await viewQueryChecks(ch, target, (sums) => ({
          source: statements.sourceTotals(sums),
          shadow: statements.shadowTotals(sums),
        }));
        return validated(ch, task, { rowsRead: Number(rows), checks });
      });
    },

    backup: (task) => replacingBackup(deps, task, replacingPartitionStatements(task)),

    swap: (task, context) =>
      replacingSwap(deps, task, replacingPartitionStatements(task), (swap) => record(task, context, swap), context),

    drop: (task) =>
      runStep(task, 'cleanup', async () => {
        await dialectRun(replacingPartitionStatements(task).cleanup, task);
        await onStep?.('cleanup:dropped', task.partition.id);
        return {};
      }),
  };
}
