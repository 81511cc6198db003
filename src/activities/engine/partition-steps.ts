import type { PartitionTask } from '../../shared/partition-task';
import { qualifiedName, type TableRef } from '../../shared/table-ref';
import { runDdl } from './cluster-ddl';
import type { ServerProfile } from '../../shared/server-profile';
import { aggregateSteps } from '../aggregate/aggregate-steps';
import type { ActivityDeps } from './deps';
import { stepsFor, type StepsByKind } from './steps-for';
import { importBatchSteps } from '../import/import-steps';
import type { SwapContext } from './ledger';
import {
  buildQueries,
  partitionRows,
  type BackupResult,
  type BuildResult,
  type StepTiming,
  type SwapResult,
  type ValidateResult,
} from './step-runner';
import { viewPartitionSteps } from '../view/view-steps';
import { viewRestateSteps } from '../view-restate/restate-steps';
import { dialectOf } from '../../sql/engine/server-dialect';
import { onShard } from './shard-client';

/**
 * The activities of one partition writer over its own shadow table (`<target>_v2_<partition>_<writer>`), for every
 * kind of partition task: each runs the step of the task's kind (`stepsFor`). The live target changes only in
 * `swapPartition`, atomically; every other step touches the shadow or the backup only.
 */
export function partitionSteps(deps: ActivityDeps) {
  const { clickhouse: ch, log } = deps;
  const kinds: StepsByKind = {
    aggregate: aggregateSteps(deps),
    view: viewPartitionSteps(deps),
    viewRestate: viewRestateSteps(deps),
    import: importBatchSteps(deps),
  };
  const of = (task: PartitionTask) => stepsFor(kinds, task);

  const steps = {
    /**
     * Creates the shadow table afresh, shaped like the target.
     * Durability: drop-if-exists then create, so a retry after any crash starts from the same empty table.
     */
    async prepareShadow(task: PartitionTask): Promise<StepTiming> {
      return of(task).prepare();
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
      const built = await of(task).build({});
      const rows =
        built.rowsWritten ??
        (await partitionRows(onShard(deps, task).clickhouse, task.shadow, task.partition.id, dialectOf(task.server)));
      return { ...built, rowsWritten: rows };
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
      const steps = of(task);
      const prepare = await steps.prepare();
      const built = await steps.build({ fresh: true });
      const validate = await steps.validate();
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
      return of(task).validate();
    },

    /**
     * Keeps the live partition's parts in the writer's backup table by hard links (`ATTACH PARTITION … FROM`), so
     * `rollback` can restore it. Runs after validation and before the swap.
     * Durability: creates the backup table if missing, drops the partition there, then attaches it from the live
     * table; the live table has not changed yet (the swap comes after this step completes), so a retry keeps the
     * same rows.
     */
    async backupPartition(task: PartitionTask): Promise<BackupResult> {
      const backup = of(task).backup;
      if (!task.backup || !backup) {
        throw new Error(`partition ${task.partition.id}: backupPartition called without a backup table`);
      }
      return backup();
    },

    /**
     * Makes the live partition equal the shadow's, atomically: `REPLACE PARTITION` from the shadow, or, when the
     * shadow holds nothing in the partition (the source has no rows there), `DROP PARTITION` — never a REPLACE from
     * an empty source, whose outcome depends on the server version. Then checks that the target partition holds
     * exactly the shadow's rows (read as of every committed part: sequential consistency on Cloud) (REPLACE hard-links the shadow's parts; a difference means
     * something else wrote there meanwhile, and the retried swap replaces it again). Then records the swap in the
     * job's ledger (src/activities/engine/ledger.ts), with what `context` says of the build. `context.validatedRows`, when
     * given, are the shadow's rows as validation counted them, so the swap need not count them again.
     * Durability: the shadow stays intact, so repeating the swap after a crash gives the same target; the ledger
     * row is keyed by the partition workflow's run, so a repeated record is kept once.
     */
    async swapPartition(task: PartitionTask, context?: SwapContext): Promise<SwapResult> {
      return of(task).swap(context);
    },

    /** Drops the shadow table. Durability: `DROP TABLE IF EXISTS`, a no-op when repeated. */
    async dropShadow(task: PartitionTask): Promise<StepTiming> {
      return of(task).drop();
    },

    /**
     * Drops a writer's backup table once its retention has ended, through the dialect of `server` (on a cluster
     * with an `Atomic` database `ON CLUSTER`, read per host by `runDdl`, so no node keeps it). Durability:
     * `DROP TABLE IF EXISTS`, a no-op when repeated; a host not answering in time retries the activity.
     */
    async dropBackup(backup: TableRef, server?: ServerProfile): Promise<void> {
      const dialect = dialectOf(server);
      await runDdl(ch, dialect.dropTable(backup), dialect);
      log.info('backup dropped', { backup: qualifiedName(backup) });
    },
  };
  return steps;
}
