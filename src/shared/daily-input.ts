import { z } from 'zod';
import { aggregateJobSpecSchema } from './job-spec';
import { isTimeZone } from './days';
import { parseIsoDate } from './partitions';

/**
 * Input of `dailyIncrementalWorkflow`. Without `date` the day is "yesterday" relative to the schedule's nominal
 * start time (`TemporalScheduledStartTime`) in `timezone`; with `date` (manual runs) exactly that day.
 */
export const dailyInputSchema = z
  .object({
    job: aggregateJobSpecSchema,
    date: z
      .string()
      .refine((s) => parseIsoDate(s) !== undefined, { message: 'must be a date written YYYY-MM-DD' })
      .optional(),
    timezone: z.string().refine(isTimeZone, { message: 'must be an IANA time zone such as UTC or Europe/Paris' }),
    /** Swap a month that shrinks past the job's `safety.maxShrink` without waiting for an operator. */
    allowShrink: z.boolean().default(false),
  })
  .strict();

export type DailyInput = z.infer<typeof dailyInputSchema>;
export type DailyInputRaw = z.input<typeof dailyInputSchema>;
