import { z } from 'zod';
import { aggregateJobSpecSchema } from './job-spec';
import { isTimeZone } from './days';
import { isoDate } from './backfill-input';
import { refusing } from './refused-value';

/**
 * Input of `dailyIncrementalWorkflow`. Without `date` the day is "yesterday" relative to the schedule's nominal
 * start time (`TemporalScheduledStartTime`) in `timezone`; with `date` (manual runs) exactly that day.
 */
export const dailyInputSchema = z
  .object({
    job: aggregateJobSpecSchema,
    date: isoDate.optional(),
    timezone: z.string().refine(isTimeZone, refusing('is not an IANA time zone such as UTC or Europe/Paris')),
    /** Swap a month that shrinks past the job's `safety.maxShrink` without waiting for an operator. */
    allowShrink: z.boolean().default(false),
  })
  .strict();

export type DailyInput = z.infer<typeof dailyInputSchema>;
export type DailyInputRaw = z.input<typeof dailyInputSchema>;
