import { firstFingerprintRead } from './source-fingerprint';
import type { Statement } from '../../clickhouse/statement';
import { insertAggregation } from '../../sql/aggregate/aggregation';
import { aggregationShape, rowCountMetric } from '../../sql/aggregate/aggregation-shape';
import {
  attachPartitionFrom,
  dropPartition,
  replaceFromEmptySource,
  replacePartition,
  truncateTable,
} from '../../sql/engine/partition-ops';
import { deleteDay } from '../../sql/daily/daily-ops';
import { dialectOf } from '../../sql/engine/server-dialect';
import { nextDay } from '../../shared/days';
import { selectPartitionTotals, selectSourceTotals, type Totals } from '../../sql/aggregate/totals';
import type { AggregatePartitionTask, PartitionTask } from '../../shared/partition-task';
import type { TableRef } from '../../shared/table-ref';

/**
 * The statements of an aggregate partition's steps, in the order they run: what the steps send and what a dry run
 * (`ch-backfill plan`) prints, so the two cannot drift. Row counts and table info are not listed (see
 * `partitionRows`). Rendered for the task's server (`task.server`, src/sql/engine/server-dialect.ts): on Cloud the
 * shadow's validation read carries `select_sequential_consistency = 1`, a partition ALTER that reads another
 * table's parts is preceded by a best-effort `SYSTEM SYNC REPLICA … LIGHTWEIGHT` of that table, and partition
 * ALTERs carry `alter_sync`; without a profile, the statements of one server.
 */
export interface AggregatePartitionStatements {
  /** The shadow afresh: dropped (what a crashed attempt left), then created like the target. */
  /**
   * The first read of the source's fingerprint of the partition, just before the build (for the ledger): its parts'
   * metadata, or the scan where that cannot tell the days (see `sourceFingerprintDays`).
   */
  fingerprint: Statement;
  prepare: Statement[];
  /** Empties the shadow before a build run on its own (`buildShadow`; the one build activity prepares afresh). */
  truncate: Statement;
  /** A rebuild's INSERT: the job's (salted) aggregation of the partition, run with the job's `insertSettings`. */
  insert: Statement;
  /**
   * After the build fills the shadow (rebuild, day or restore): on a replicated cluster every replica synced with
   * it (`SYSTEM SYNC REPLICA ON CLUSTER … LIGHTWEIGHT`), so validation and the swap see the fill on any replica;
   * none elsewhere.
   */
  afterFill: Statement[];
  /**
   * A daily run's build of its day (`build.kind: 'day'`): the live partition copied into the shadow (after its
   * pending patches are applied, and on Cloud a best-effort sync of the target), the day deleted there, then the
   * day's aggregation inserted.
   */
  day?: { copy: Statement[]; delete: Statement; insert: Statement };
  /**
   * A rollback's build (`build.kind: 'restore'` of a partition that had rows): the backup's copy attached (on
   * Cloud after a best-effort sync of the backup; validation compares the rows with those the backup recorded).
   */
  restore: Statement[];
  /**
   * A rebuild's validation reads: the source's totals of the partition (committed data: read as is), then the
   * shadow's (our own write: with sequential consistency on Cloud).
   */
  validate: [source: Statement<Totals>, shadow: Statement<Totals>];
  /**
   * Keeps the live partition in the backup table (none without a backup table); on Cloud the target is synced,
   * as a best effort, just before the `ATTACH PARTITION … FROM` that copies its parts: the guard after it (the
   * backup's rows against the live partition's, both read with sequential consistency) is what refuses a short copy.
   */
  backup: Statement[];
  /** Before the swap: the live partition's pending lightweight updates applied (where the profile found some). */
  beforeSwap: Statement[];
  /**
   * The swap when the shadow holds rows: on Cloud a best-effort sync of the shadow, then `REPLACE PARTITION`. The
   * check after it (the target's rows against the shadow's, read with sequential consistency) is what catches a
   * replica that cloned fewer of the shadow's parts; the retried swap then replaces again.
   */
  replace: Statement[];
  /**
   * The swap when the shadow holds none and the live partition does: the partition emptied (`DROP PARTITION`; on a
   * sharded cluster's shard `REPLACE PARTITION` from the empty shadow, `allow_replace_partition_from_empty_source`).
   */
  empty: Statement;
  cleanup: Statement[];
  /** DDL (prepare, the backup table's create, cleanup) runs with these settings where it reaches several hosts. */
  ddlSettings?: Record<string, string | number>;
}

/** What every kind that replaces a partition from its shadow shares: the tables, the partition, the server. */
export type ReplacingTask = Pick<PartitionTask, 'target' | 'shadow' | 'partition' | 'server'> & { backup?: TableRef };

/** The statements of a replacing kind's shadow, backup and swap (aggregate partitions and view restates alike). */
export type ReplacingStatements = Pick<
  AggregatePartitionStatements,
  'prepare' | 'afterFill' | 'backup' | 'beforeSwap' | 'replace' | 'empty' | 'cleanup' | 'ddlSettings'
>;

/**
 * Renders the statements a partition replaced from its shadow takes, whatever builds the shadow (see
 * {@link AggregatePartitionStatements} for each).
 */
export function replacingPartitionStatements(task: ReplacingTask): ReplacingStatements {
  const dialect = dialectOf(task.server);
  const { partition, shadow, target, backup } = task;
  const alter = dialect.partitionAlter;
  return {
    prepare: [dialect.dropTable(shadow), dialect.createLike(shadow, target)],
    afterFill: dialect.syncAfterFill(shadow),
    backup: backup
      ? [
          dialect.createLike(backup, target, { ifNotExists: true }),
          ...dialect.applyPatches(target, partition.id),
          alter(dropPartition(backup, partition.id)),
          ...dialect.syncBeforeAlter(target),
          alter(attachPartitionFrom(backup, target, partition.id)),
        ]
      : [],
    beforeSwap: dialect.applyPatches(target, partition.id),
    replace: [...dialect.syncBeforeAlter(shadow), alter(replacePartition(target, shadow, partition.id))],
    empty: dialect.emptiesByReplace
      ? replaceFromEmptySource(alter(replacePartition(target, shadow, partition.id)))
      : alter(dropPartition(target, partition.id)),
    cleanup: [dialect.dropTable(shadow)],
    ...(dialect.ddlSettings ? { ddlSettings: dialect.ddlSettings } : {}),
  };
}

/** Renders every statement of an aggregate partition's steps from its task (see {@link AggregatePartitionStatements}). */
export function aggregatePartitionStatements(task: AggregatePartitionTask): AggregatePartitionStatements {
  const shape = aggregationShape(task.job);
  const dialect = dialectOf(task.server);
  const { partition, shadow, target, source, build } = task;
  const alter = dialect.partitionAlter;
  const { mode } = task.job.validation;
  // Without a count() metric the row-count check has nothing to sum: compare output rows with distinct keys and
  // dates instead, in every mode, so that validation can always fail.
  const groups = mode === 'full' || rowCountMetric(shape) === undefined;
  const replacing = replacingPartitionStatements(task);
  return {
    prepare: replacing.prepare,
    fingerprint: firstFingerprintRead(shape, source, partition),
    truncate: truncateTable(shadow),
    insert: insertAggregation(shape, source, shadow, partition, partition.salt),
    afterFill: replacing.afterFill,
    day:
      build.kind === 'day'
        ? {
            copy: [
              ...dialect.applyPatches(target, partition.id),
              ...dialect.syncBeforeAlter(target),
              alter(attachPartitionFrom(shadow, target, partition.id)),
            ],
            delete: deleteDay(shadow, shape.dateColumn, build.day),
            insert: insertAggregation(
              shape,
              source,
              shadow,
              { start: build.day, end: nextDay(build.day) },
              partition.salt,
            ),
          }
        : undefined,
    restore:
      build.kind === 'restore' && build.rows > 0
        ? [...dialect.syncBeforeAlter(build.from), alter(attachPartitionFrom(shadow, build.from, partition.id))]
        : [],
    validate: [
      selectSourceTotals(shape, source, partition, groups, mode === 'full'),
      dialect.consistentRead(selectPartitionTotals(shape, shadow, partition.id)),
    ],
    backup: replacing.backup,
    beforeSwap: replacing.beforeSwap,
    replace: replacing.replace,
    empty: replacing.empty,
    cleanup: replacing.cleanup,
    ...(replacing.ddlSettings ? { ddlSettings: replacing.ddlSettings } : {}),
  };
}
