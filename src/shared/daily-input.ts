import { z } from 'zod';
import { aggregateJobSpecSchema } from './job-spec';
import { formatIsoDate, parseIsoDate } from './partitions';

/** True when `tz` is an IANA time zone the runtime knows (`UTC`, `Europe/Paris`, …). */
export function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-CA', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

/** The calendar day before the one that `instant` falls on in `timeZone`, as `YYYY-MM-DD`. */
export function dayBefore(instant: Date, timeZone: string): string {
  const parts = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' })
    .formatToParts(instant)
    .reduce<Record<string, string>>((acc, p) => ({ ...acc, [p.type]: p.value }), {});
  const local = new Date(Date.UTC(Number(parts.year), Number(parts.month) - 1, Number(parts.day)));
  local.setUTCDate(local.getUTCDate() - 1);
  return formatIsoDate(local);
}

/** The day after `day` (`YYYY-MM-DD`). */
export function nextDay(day: string): string {
  const d = parseIsoDate(day);
  if (!d) throw new RangeError(`not a date: ${JSON.stringify(day)}`);
  d.setUTCDate(d.getUTCDate() + 1);
  return formatIsoDate(d);
}

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
