import type { ServerProfile } from './server-profile';
import { z } from 'zod';
import { importJobSchema } from './job-spec';
import type { BackfillSummary, PartitionPlan } from './backfill-results';
import type { TableRef } from './table-ref';
import type { DescribedStatement } from './described-statement';

/** Input of `importWorkflow`: a `kind: import` job. Its range is every history row before the checkpoint. */
export const importInputSchema = z.object({ job: importJobSchema }).strict();

export type ImportInput = z.infer<typeof importInputSchema>;
export type ImportInputRaw = z.input<typeof importInputSchema>;

/** A materialized view fed by the main table: its name, its `TO` table and its SELECT as the server stores it. */
export interface ImportView {
  view: TableRef;
  target: TableRef;
  /** `system.tables.as_select`: the server's own normalised text, reading the main table by its qualified name. */
  select: string;
}

/**
 * One column total validation compares between a view target's duplicate and its views' SELECT over the batch:
 * `sum` of a plain or `SimpleAggregateFunction(sum, …)` column, `countMerge`/`sumMerge` of a `count`/`sum` state.
 */
export interface TotalCheck {
  column: string;
  read: 'sum' | 'countMerge' | 'sumMerge';
}

/** A view target and what validation can compare exactly for it (see README, "`kind: import`"). */
export interface ImportTarget {
  table: TableRef;
  engine: string;
  /** Also compare row counts: a plain MergeTree fed only by views that keep rows as they are (no aggregation). */
  rows: boolean;
  totals: TotalCheck[];
  /** Why some or all of its columns are not compared. */
  note?: string;
}

/**
 * One batch: the history rows of one partition of the main table (`id`, `all` when it is unpartitioned) before
 * the checkpoint, bounded by `[fromMicros, toMicros)` (their first and just past their last time), which lets
 * the history table skip what lies outside. `start`/`end` show those bounds (UTC).
 */
export interface ImportBatch extends PartitionPlan {
  fromMicros: number;
  toMicros: number;
}

/** The tables of an import job, resolved, the checkpoint it runs with and its batches, newest first. */
export interface ImportPlan {
  source: TableRef;
  target: TableRef;
  /** Epoch microseconds: history rows before it are loaded; the live table holds none before it. */
  checkpoint: number;
  /** The main table's partition key as the server shows it (`system.tables.partition_key`); '' when none. */
  partitionKey: string;
  /** The main table's columns the history fills, in table order. */
  columns: string[];
  views: ImportView[];
  targets: ImportTarget[];
  batches: ImportBatch[];
  /** The server as the plan found it (copied into every batch's task); absent in plans from before profiles. */
  server?: ServerProfile;
}

/** How one batch builds its main-table duplicate: the history rows of its partition before the checkpoint. */
export interface ImportBatchBuild {
  kind: 'import-batch';
  checkpoint: number;
  fromMicros: number;
  toMicros: number;
  partitionKey: string;
  columns: string[];
}

/**
 * One writer's duplicates for one batch, besides the main table's (the task's shadow): each view target's, and a
 * copy of each view reading the main duplicate and writing the target duplicates.
 */
export interface ImportDuplicates {
  targets: (ImportTarget & { copy: TableRef })[];
  views: { view: TableRef; copy: TableRef; into: TableRef; select: string }[];
}

/** What an import returns: the backfill summary (`to` is the checkpoint), and every table it loaded. */
export interface ImportSummary extends BackfillSummary {
  checkpoint: string;
  /** The main table, then each view target (`database.table`). */
  tables: string[];
}

/** What an import job would do if started now: the answer of the `describeImport` activity (a dry run). */
export interface ImportDescription {
  plan: ImportPlan;
  /** Every table and view a run creates (per batch, named with the dry run's writer tag). */
  creates: string[];
  statements: DescribedStatement[];
}
