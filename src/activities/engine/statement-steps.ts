import { CancelledFailure } from '@temporalio/common';
import type { Statement } from '../../clickhouse/statement';
import type { ActivityDeps } from './deps';
import type { BuildOptions, BuildOutcome } from './kind-steps';
import { buildQueries, partitionRows, runStep, type StepTiming } from './step-runner';
import type { PartitionTask } from '../../shared/partition-task';
import { dialectOf } from '../../sql/engine/server-dialect';
import { runDdl, runStatement } from './cluster-ddl';

/**
 * The statements of a partition's prepare, build and cleanup steps, in the order they run, rendered from its task:
 * what the steps run and a dry run prints.
 */
export interface ShadowStatements {
  /** The shadow (and whatever else the build writes into) afresh, after dropping what a crashed attempt left. */
  prepare: Statement[];
  /** Empties what the build writes into, before every fill attempt. */
  truncate: Statement[];
  /** The fill, run with the job's `insertSettings`. */
  insert: Statement;
  /** Drops everything `prepare` created. */
  drop: Statement[];
  /**
   * After the fill: on a replicated cluster every table it wrote synced on every replica
   * (`SYSTEM SYNC REPLICA ON CLUSTER … LIGHTWEIGHT`), so validation and the moves see it on any replica; none
   * elsewhere.
   */
  afterFill: Statement[];
}

/**
 * The prepare, build and cleanup steps of a job kind whose steps are all rendered statements (a view's partitions,
 * an import's batches): each renders the task's statements with `statementsOf` and runs them in order.
 *
 * DDL (`prepare`, `drop`) runs through `runDdl` (on a cluster: a status per host, a host without an answer in time
 * "look again"), the syncs after the fill through `runStatement`; elsewhere both are plain execs.
 *
 * Durability: `prepare` drops before it creates, so a retry after any crash starts from the same empty tables. The
 * build kills every earlier build query of the partition workflow's run (on a server), truncates, then inserts, so a
 * retry never adds to a partial fill (a `fresh` build, right after `prepare` in the one build activity, which
 * stopped earlier builds first, skips both); a cancelled build stops its query and reports a cancellation (the workflow
 * redoes the build). The cleanup's drops are `IF EXISTS`.
 */
export function statementSteps<T extends PartitionTask>(
  { clickhouse: ch, onStep }: ActivityDeps,
  statementsOf: (task: T) => ShadowStatements,
) {
  const ddlAll = async (task: T, statements: Statement[]): Promise<void> => {
    const dialect = dialectOf(task.server);
    for (const statement of statements) await runDdl(ch, statement, dialect);
  };

  return {
    async prepare(task: T): Promise<StepTiming> {
      return runStep(task, 'prepare', async () => {
        await ddlAll(task, statementsOf(task).prepare);
        return {};
      });
    },

    /**
     * `fresh`: `prepare` has just made the tables afresh (the one build activity, which stopped earlier builds
     * before it), so they need no truncate, no earlier build is left to stop, and the written rows are left to
     * validation, which counts the shadow anyway.
     */
    async build(task: T, { fresh = false }: BuildOptions = {}): Promise<BuildOutcome> {
      const { queryId, killEarlier } = buildQueries(ch, task);
      const { truncate, insert, afterFill } = statementsOf(task);
      const dialect = dialectOf(task.server);
      const id = task.partition.id;
      return runStep(task, 'insert', async (signal) => {
        if (!fresh) await killEarlier();
        try {
          if (!fresh) for (const statement of truncate) await ch.exec(statement, { signal });
          await onStep?.('insert:started', id);
          await ch.exec(insert, { signal, settings: task.job.insertSettings, queryId });
          for (const statement of afterFill) await runStatement(ch, statement, dialect, { signal });
        } catch (err) {
          if (!signal.aborted) throw err;
          await killEarlier();
          throw new CancelledFailure('the build was cancelled', undefined, err as Error);
        }
        await onStep?.('insert:finished', id);
        if (fresh) return {};
        // Our own write, counted as of every committed part (sequential consistency on Cloud).
        return { rowsWritten: await partitionRows(ch, task.shadow, id, dialect) };
      });
    },

    async drop(task: T): Promise<StepTiming> {
      return runStep(task, 'cleanup', async () => {
        await ddlAll(task, statementsOf(task).drop);
        await onStep?.('cleanup:dropped', task.partition.id);
        return {};
      });
    },
  };
}
