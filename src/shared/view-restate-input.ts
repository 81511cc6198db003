import { z } from 'zod';
import type { BackfillSummary, PartitionPlan, UnchangedPartitions } from './backfill-results';
import { viewRestateJobSchema } from './job-spec';
import type { RestateChainBuild, ViewRestateBuild } from './partition-task';
import type { ServerProfile } from './server-profile';
import type { TableRef } from './table-ref';

/**
 * A view restate's workflow input: the job and its range of days (`--from/--to`, inclusive, `YYYY-MM-DD`; empty
 * when the job lists `partitions`), whether the shrink guard is off (`--allow-shrink`), and which partitions to take
 * (`--only changed`). Defaults apply here.
 */
export const viewRestateInputSchema = z
  .object({
    job: viewRestateJobSchema,
    from: z.string().default(''),
    to: z.string().default(''),
    allowShrink: z.boolean().default(false),
    /**
     * `changed` (`--only changed`): only the partitions whose source rows or view definition changed since the
     * ledger's newest row of them (see `partitionChange`); every partition of the run when absent.
     */
    only: z.enum(['all', 'changed']).optional(),
  })
  .strict();
export type ViewRestateInput = z.infer<typeof viewRestateInputSchema>;
export type ViewRestateInputRaw = z.input<typeof viewRestateInputSchema>;

/** What the restate's plan fixed, recorded in its history: the tables, the stored query, the partitions. */
export interface ViewRestatePlan {
  view: TableRef;
  source: TableRef;
  target: TableRef;
  build: ViewRestateBuild;
  /**
   * The partitions to restate: each entirely before the job's `writesEndBefore`, or, with `ingestion:
   * paused-by-operator`, also those listed in `afterConfirm`.
   */
  partitions: PartitionPlan[];
  /**
   * The partitions the live view can still write into (`ingestion: paused-by-operator`): restated once the operator
   * confirmed ingestion into the source is paused, after the others. Absent when there are none.
   */
  afterConfirm?: string[];
  /** Why the ledger rows of this restate vouch for no source fingerprint; absent when they do (`build.sourceDay`). */
  noFingerprint?: string;
  /** With `only: changed`, the partitions left out as unchanged and the ledger rows trusted for them. */
  unchanged?: UnchangedPartitions;
  /** The server as the plan found it, copied into every partition task. */
  server: ServerProfile;
  /**
   * The views fed from the target and from their targets (a chain), each after the level it reads, with each
   * level's live rows per partition; absent: the target feeds no view.
   */
  chain?: { build: RestateChainBuild; target: TableRef; targetRows: Record<string, number> }[];
}

/** A view restate's summary: a backfill's (with the backup table of the replaced partitions), and the view. */
export interface ViewRestateSummary extends BackfillSummary {
  view: string;
  /** With partitions restated after a confirm: since when ingestion into the source may resume (UTC). */
  ingestionMayResumeAt?: string;
}
