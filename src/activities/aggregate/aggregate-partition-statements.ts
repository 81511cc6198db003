import type { Statement } from '../../clickhouse/statement';
import { insertAggregation } from '../../sql/aggregate/aggregation';
import { aggregationShape, rowCountMetric } from '../../sql/aggregate/aggregation-shape';
import {
  attachPartitionFrom,
  createTableLike,
  createTableLikeIfNotExists,
  dropPartition,
  dropTableIfExists,
  replacePartition,
  truncateTable,
} from '../../sql/engine/partition-ops';
import { selectSourceFingerprintDays, type FingerprintDayRow } from '../../sql/aggregate/source-fingerprint';
import { selectPartitionTotals, selectSourceTotals, type Totals } from '../../sql/aggregate/totals';
import type { AggregatePartitionTask } from '../../shared/partition-task';

/**
 * The statements of an aggregate partition's steps, in the order they run: what the steps send and what a dry run
 * (`ch-backfill plan`) prints, so the two cannot drift. Reads of system tables (part row counts, table info) are
 * not listed.
 */
export interface AggregatePartitionStatements {
  /** The shadow afresh: dropped (what a crashed attempt left), then created like the target. */
  prepare: Statement[];
  /** The source's fingerprint of the partition, read just before the build (for the ledger). */
  fingerprint: Statement<FingerprintDayRow>;
  /** Empties the shadow before a build run on its own (`buildShadow`; the one build activity prepares afresh). */
  truncate: Statement;
  /** A rebuild's INSERT: the job's (salted) aggregation of the partition, run with the job's `insertSettings`. */
  insert: Statement;
  /** A rebuild's validation reads: the source's totals of the partition, then the shadow's. */
  validate: [source: Statement<Totals>, shadow: Statement<Totals>];
  /** Keeps the live partition in the backup table (none without a backup table). */
  backup: Statement[];
  /** The swap when the shadow holds rows. */
  replace: Statement;
  /** The swap when the shadow holds none and the live partition does: the partition emptied. */
  empty: Statement;
  cleanup: Statement[];
}

/** Renders every statement of an aggregate partition's steps from its task (see {@link AggregatePartitionStatements}). */
export function aggregatePartitionStatements(task: AggregatePartitionTask): AggregatePartitionStatements {
  const shape = aggregationShape(task.job);
  const { partition, shadow, target, source, backup } = task;
  const { mode } = task.job.validation;
  // Without a count() metric the row-count check has nothing to sum: compare output rows with distinct keys and
  // dates instead, in every mode, so that validation can always fail.
  const groups = mode === 'full' || rowCountMetric(shape) === undefined;
  return {
    prepare: [dropTableIfExists(shadow), createTableLike(shadow, target)],
    fingerprint: selectSourceFingerprintDays(shape, source, partition),
    truncate: truncateTable(shadow),
    insert: insertAggregation(shape, source, shadow, partition, partition.salt),
    validate: [
      selectSourceTotals(shape, source, partition, groups, mode === 'full'),
      selectPartitionTotals(shape, shadow, partition.id),
    ],
    backup: backup
      ? [
          createTableLikeIfNotExists(backup, target),
          dropPartition(backup, partition.id),
          attachPartitionFrom(backup, target, partition.id),
        ]
      : [],
    replace: replacePartition(target, shadow, partition.id),
    empty: dropPartition(target, partition.id),
    cleanup: [dropTableIfExists(shadow)],
  };
}
