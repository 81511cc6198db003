import { z } from 'zod';
import type { BackfillSummary, PartitionPlan } from './backfill-results';
import { viewRestateJobSchema } from './job-spec';
import type { RestateChainBuild, ViewRestateBuild } from './partition-task';
import type { ServerProfile } from './server-profile';
import type { TableRef } from './table-ref';

/**
 * A view restate's workflow input: the job and its range of days (`--from/--to`, inclusive, `YYYY-MM-DD`; empty
 * when the job lists `partitions`), and whether the shrink guard is off (`--allow-shrink`). Defaults apply here.
 */
export const viewRestateInputSchema = z
  .object({
    job: viewRestateJobSchema,
    from: z.string().default(''),
    to: z.string().default(''),
    allowShrink: z.boolean().default(false),
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
  /** The partitions to restate, each entirely before the job's `writesEndBefore`. */
  partitions: PartitionPlan[];
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
}
