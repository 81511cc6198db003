import type { ServerProfile } from './server-profile';
import { z } from 'zod';
import type { DescribedStatement } from './described-statement';
import { viewJobSchema } from './job-spec';
import type { BackfillSummary } from './backfill-results';
import type { TableRef } from './table-ref';

/** Input of `viewBackfillWorkflow`: a `kind: view` job. Its range is everything before the cutoff. */
export const viewBackfillInputSchema = z.object({ job: viewJobSchema }).strict();

export type ViewBackfillInput = z.infer<typeof viewBackfillInputSchema>;
export type ViewBackfillInputRaw = z.input<typeof viewBackfillInputSchema>;

/**
 * What a view backfill returns: the backfill summary (`from` is empty: the range starts with the oldest row;
 * `to` is the cutoff), the view and its cutoff.
 */
export interface ViewBackfillSummary extends BackfillSummary {
  view: string;
  /** The cutoff, UTC (`YYYY-MM-DDThh:mm:ssZ`): rows from it on are the view's, older rows the backfill's. */
  cutoff: string;
}

/** The tables of a view job, resolved, and the cutoff it runs with (epoch seconds). */
export interface ViewPlan {
  source: TableRef;
  target: TableRef;
  view: TableRef;
  cutoff: number;
  /** The view already existed with exactly this definition (a job run again): nothing is created. */
  viewExisted: boolean;
  targetExisted: boolean;
  /** The server as the plan found it (copied into every partition task); absent in plans from before profiles. */
  server?: ServerProfile;
  /** A view given as SQL: its output columns, which the fill inserts by name. */
  columns?: string[];
}

/** What a view job would do if started now: the answer of the `describeViewBackfill` activity (a dry run). */
export interface ViewDescription {
  plan: ViewPlan;
  /** The partitions holding rows before the cutoff so far (a partition may still gain rows until the cutoff). */
  partitions: { id: string; sourceRows: number }[];
  /** What validation compares per partition, for the target's engine (absent in descriptions from before it). */
  validation?: string;
  statements: DescribedStatement[];
}

/**
 * The writer tag a dry run names shadows with: a run's shadows carry its own tag, 8 hex digits of its workflow
 * and run ids (src/shared/writer-tables.ts), which exist only once it is started.
 */
export const DESCRIBED_WRITER_TAG = 'TAG';
