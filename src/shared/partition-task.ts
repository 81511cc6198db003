import type { Expr } from './expression-syntax';
import type { PartitionPlan } from './backfill-results';
import type { ImportBatchBuild, ImportDuplicates } from './import-input';
import type { AggregateJob, ImportJob, ViewJob, ViewRestateJob } from './job-spec';
import type { ServerProfile } from './server-profile';
import type { TableRef } from './table-ref';

/**
 * How a partition writer fills its shadow:
 * - `rebuild`: the job's aggregation of the whole partition from the source (nothing when the source has none);
 * - `day`: the live partition with one day re-aggregated from the source (the daily run);
 * - `restore`: the copy of the partition kept in `from` before an earlier swap (rollback), which held `rows` rows;
 *   0 means the partition did not exist before, so the restore empties it.
 */
export type ShadowBuild =
  { kind: 'rebuild' } | { kind: 'day'; day: string } | { kind: 'restore'; from: TableRef; rows: number };

/** What every partition workflow needs: the resolved tables and the partition. */
interface PartitionTaskBase {
  source: TableRef;
  target: TableRef;
  /** This writer's shadow of the partition (see src/shared/writer-tables.ts). */
  shadow: TableRef;
  partition: PartitionPlan;
  /**
   * The server as the plan found it; every statement of the task's steps is built for it (src/sql/engine/
   * server-dialect.ts). Absent: the embedded engine, or a task recorded before plans kept a profile, which ran the
   * statements of one server.
   */
  server?: ServerProfile;
}

/** What the partition workflow needs for an aggregate job: the job, the partition and how to build it. */
export interface AggregatePartitionTask extends PartitionTaskBase {
  job: AggregateJob;
  build: ShadowBuild;
  /** The plan's `BackfillPlan.sourceHasParts`; absent: the build asks the source's engine itself. */
  sourceHasParts?: boolean;
  /** Absent (or `replace`): the swap makes the live partition equal the shadow (`REPLACE PARTITION`). */
  swap?: 'replace';
  /** Where the live partition's parts are kept (hard links) before the swap, for rollback; none: not kept. */
  backup?: TableRef;
  /**
   * A validated shadow with more than this fraction fewer rows than the live partition waits for `approve` or
   * `reject`; absent: no guard (`--allow-shrink`, rollback).
   */
  maxShrink?: number;
}

/**
 * A view job's partition: the view's SELECT over the partition's source rows before `cutoff` (epoch seconds), by
 * the job's `fill` method, validated, then appended to the live target with `MOVE PARTITION`, because the live
 * view writes the same partition. No shrink guard and no backup: an append removes nothing from the live table.
 * Without `cutoff` (a `cutoff: snapshot` job) the source is the job's snapshot and the fill reads all of it.
 */
export interface ViewPartitionTask extends PartitionTaskBase {
  job: ViewJob;
  /** `columns`: a view given as SQL, whose output the fill inserts by these names. */
  build: { kind: 'view-fill'; cutoff?: number; columns?: string[] };
  swap: 'append';
  backup?: undefined;
  maxShrink?: undefined;
}

/**
 * An import job's batch: the history rows of one partition of the main table (the task's `target`, read from
 * `source`) before the checkpoint, inserted into the main table's duplicate (the shadow), whose view copies fill the
 * view targets' duplicates; validated, then every duplicate's partitions moved into its live table (`MOVE
 * PARTITION`, appended: ingestion goes on writing the same tables). No shrink guard and no backup.
 */
export interface ImportPartitionTask extends PartitionTaskBase {
  job: ImportJob;
  build: ImportBatchBuild;
  swap: 'move-all';
  duplicates: ImportDuplicates;
  backup?: undefined;
  maxShrink?: undefined;
}

/**
 * What a restate rebuilds a partition from: the view's stored query as the plan read it, the target's columns it
 * fills by name, the target's partition function and column (`toYYYYMM(day)`), and what validation compares.
 */
export interface ViewRestateBuild {
  kind: 'view-restate';
  /** `system.tables.as_select` of the view when planned: the server's own text, reading the source by qualified name. */
  select: string;
  columns: string[];
  partitionBy?: { fn: 'toYYYYMM' | 'toYYYYMMDD'; column: string };
  /** The target's engine family and ORDER BY columns: what its validation compares (see `comparisonFor`). */
  engine: 'MergeTree' | 'SummingMergeTree' | 'AggregatingMergeTree' | 'ReplacingMergeTree';
  orderBy: string[];
  /**
   * The day of a source row in the target's partitioning (`toDate(...)` of the view's expression of the partition
   * column, src/sql/view-restate/source-date.ts): which source rows the ledger's fingerprint of a partition covers.
   * Absent when the view's query does not say (the ledger then vouches for nothing), and in builds from before it.
   */
  sourceDay?: Expr;
}

/**
 * A view further down a restated chain (A → A_target → B → B_target): B, the table it reads (A_target or a deeper
 * level's target) and its stored query as the plan read it, reading that table by its qualified name.
 */
export interface RestateChainBuild extends ViewRestateBuild {
  view: TableRef;
  reads: TableRef;
}

/**
 * One level of a restated chain below the restated view's target, for one writer: its target's partition is
 * rebuilt in `shadow` by the level's view re-pointed at the shadow of the table it reads, or (a rollback) restored
 * from `from`, the restate's backup of that level (its rows are read there: the task's `rows` are every level's).
 */
export interface RestateChainLevel {
  target: TableRef;
  shadow: TableRef;
  /** Where the level's live partition is kept before the swap (`<target>_backup_<writer>`); none on a rollback. */
  backup?: TableRef;
  build: RestateChainBuild | { kind: 'restore'; from: TableRef };
}

/**
 * A view restate's partition: the view's stored query over the source, filtered to the partition, into the
 * writer's shadow; validated per target engine, then replaced (`REPLACE PARTITION`) as an aggregate partition is,
 * after the shrink guard and the backup. The plan took only partitions the live view writes no more into.
 */
export interface ViewRestatePartitionTask extends PartitionTaskBase {
  job: ViewRestateJob;
  /** The restate's build, or a rollback's restore of what the restate replaced (see {@link ShadowBuild}). */
  build: ViewRestateBuild | Extract<ShadowBuild, { kind: 'restore' }>;
  swap: 'replace';
  backup?: TableRef;
  maxShrink?: number;
  /**
   * The levels of a chain fed from the target, each after the level it reads (absent: no chain). Every level is
   * built and validated with the target, and swapped before it, deepest first.
   */
  chain?: RestateChainLevel[];
}

export type PartitionTask = AggregatePartitionTask | ViewPartitionTask | ImportPartitionTask | ViewRestatePartitionTask;
