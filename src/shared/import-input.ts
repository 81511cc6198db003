import type { ServerProfile } from './server-profile';
import { z } from 'zod';
import { importJobSchema } from './job-spec';
import type { BackfillSummary, PartitionPlan } from './backfill-results';
import type { TableRef } from './table-ref';
import type { DescribedStatement } from './described-statement';
import type { FileReader, ImportFile } from './import-file-source';

/**
 * Which files of a file source a run loads: `all` those the glob matches (the default), or `missing`, those the
 * ledger of loaded files does not hold (a file changed since it was loaded is reported, not loaded). `failed` is
 * `missing` by another name: a failed batch's files never reach the ledger, so they are exactly what is missing.
 */
export const IMPORT_ONLY_MODES = ['all', 'missing', 'failed'] as const;
export type ImportOnly = (typeof IMPORT_ONLY_MODES)[number];

/** Input of `importWorkflow`: a `kind: import` job. Its range is every history row before the checkpoint. */
export const importInputSchema = z
  .object({ job: importJobSchema, only: z.enum(IMPORT_ONLY_MODES).optional() })
  .strict();

export type ImportInput = z.infer<typeof importInputSchema>;
export type ImportInputRaw = z.input<typeof importInputSchema>;

/** A materialized view fed by the main table: its name, its `TO` table and its SELECT as the server stores it. */
export interface ImportView {
  view: TableRef;
  target: TableRef;
  /** `system.tables.as_select`: the server's own normalised text, reading `reads` by its qualified name. */
  select: string;
  /** The view target it reads, for a view further down a chain (A → A_target → B); absent: the main table. */
  reads?: TableRef;
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
  /**
   * File sources, in plans from before staged file lists (and in dry runs): the batch's files, fixed by the plan
   * (a retry, resume or rerun reads exactly these).
   */
  files?: ImportFile[];
  /** File sources: the bytes of its files. */
  bytes?: number;
  /** File sources: how many files it has. */
  fileCount?: number;
  /**
   * File sources whose lists are staged (`ImportFilesPlan.staged`): the hash of its file list (path, size, ETag,
   * modification time, in order) that every step checks the staged list against.
   */
  filesHash?: string;
}

/**
 * Where a plan's file lists are kept, out of the workflow's payloads: `<target db>._backfill_import_batches`,
 * keyed by `plan` (unique to one planning) and the batch's id (src/activities/import/staged-batch-files.ts).
 */
export interface StagedFilesRef {
  table: TableRef;
  plan: string;
}

/** A batch's files as its task names them: the list itself, or its staged list (checked against `hash`). */
export type BatchFilesRef =
  | { reader: FileReader; list: ImportFile[] }
  | { reader: FileReader; staged: StagedFilesRef & { batch: string; count: number; hash: string } };

/** A file the ledger holds as loaded whose size or ETag is not what it was then: reported, never loaded again. */
export interface ChangedFile {
  path: string;
  loaded: { size: number; etag: string };
  now: { size: number; etag: string };
}

/** What the plan of a file source found: how to read the files, how many and how large, and what it left out. */
export interface ImportFilesPlan {
  reader: FileReader;
  files: number;
  bytes: number;
  /** Files the glob matched that the ledger already holds unchanged (`only: missing`). */
  alreadyLoaded: number;
  changed: ChangedFile[];
  /** Where the batches' file lists are (absent: in the batches themselves, as before staging and in dry runs). */
  staged?: StagedFilesRef;
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
  /** File sources only (then `source` names the table function and the path). */
  files?: ImportFilesPlan;
}

/** How one batch builds its main-table duplicate: the history rows of its partition before the checkpoint. */
export interface ImportBatchBuild {
  kind: 'import-batch';
  checkpoint: number;
  fromMicros: number;
  toMicros: number;
  partitionKey: string;
  columns: string[];
  /**
   * File sources: the files of the batch (or where they are staged) and how to read them; the batch is every row
   * they hold before the checkpoint.
   */
  files?: BatchFilesRef;
}

/**
 * One writer's duplicates for one batch, besides the main table's (the task's shadow): each view target's, and a
 * copy of each view reading the main duplicate and writing the target duplicates.
 */
export interface ImportDuplicates {
  targets: (ImportTarget & { copy: TableRef })[];
  /** Each view's copy, writing `into` a target's duplicate and reading `from` (absent: the main table's) as `reads`. */
  views: { view: TableRef; copy: TableRef; into: TableRef; select: string; reads?: TableRef; from?: TableRef }[];
}

/** What an import returns: the backfill summary (`to` is the checkpoint), and every table it loaded. */
export interface ImportSummary extends BackfillSummary {
  checkpoint: string;
  /** The main table, then each view target (`database.table`). */
  tables: string[];
  /** File sources: files the ledger holds as loaded that changed since; reported, not loaded. */
  changedFiles?: string[];
}

/** What an import job would do if started now: the answer of the `describeImport` activity (a dry run). */
export interface ImportDescription {
  plan: ImportPlan;
  /** Every table and view a run creates (per batch, named with the dry run's writer tag). */
  creates: string[];
  statements: DescribedStatement[];
}
