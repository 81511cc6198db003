import { z } from 'zod';
import { viewJobSchema } from './job-spec';
import type { BackfillSummary } from './backfill-results';

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
