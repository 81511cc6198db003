import { z } from 'zod';
import { isPlainIdentifier } from './plain-identifier';
import { DAILY_DEFAULTS } from './daily-defaults';
import { durationMs } from './durations';
import { refusing } from './refused-value';

const name = z.string().max(128).refine(isPlainIdentifier, refusing('is not a plain name'));
const table = z
  .string()
  .max(257)
  .refine((t) => t.split('.').length <= 2 && t.split('.').every(isPlainIdentifier), {
    ...refusing('is not a plain table name, optionally as database.table'),
  });

/** A positive duration written `500ms`, `30s`, `10m`, `2h` or `1d`. */
export const durationSchema = z
  .string()
  .refine((t) => (durationMs(t) ?? 0) > 0, refusing('is not a positive duration such as 30s, 10m, 2h or 1d'));

/**
 * When a day's raw data counts as complete. Structured, never a SQL string:
 * - `next-day-rows`: the source holds rows whose time column is at or after the next midnight;
 * - `watermark`: `max(column)` of a watermark table is at or after the next midnight.
 */
export const readinessSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('next-day-rows') }).strict(),
  z.object({ kind: z.literal('watermark'), table, column: name }).strict(),
]);
export type Readiness = z.infer<typeof readinessSchema>;

/** The daily incremental run's settings in a job: readiness check, how often to re-check, and until when. */
export const dailyJobSchema = z
  .object({
    readiness: readinessSchema.default(DAILY_DEFAULTS.readiness),
    /** Time between two readiness checks (a durable timer). */
    pollInterval: durationSchema.default(DAILY_DEFAULTS.pollInterval),
    /** How long after the run starts the readiness check is re-tried before the run fails. */
    deadline: durationSchema.default(DAILY_DEFAULTS.deadline),
  })
  .strict();
export type DailyJob = z.infer<typeof dailyJobSchema>;

/** A readiness check in words, for logs and failure messages. */
export function describeReadiness(r: Readiness): string {
  return r.kind === 'next-day-rows'
    ? 'source rows at or after the next midnight exist'
    : `max(${r.column}) of ${r.table} is at or after the next midnight`;
}
