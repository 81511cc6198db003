/**
 * A job's daily settings when it gives none: the schema's defaults (src/shared/daily-job.ts), and what the daily
 * workflow falls back to for inputs recorded before it resolved them. A plain object, so that the workflow code
 * carries no schema library (each workflow run re-executes the modules it imports).
 */
export const DAILY_DEFAULTS = {
  readiness: { kind: 'next-day-rows' as const },
  pollInterval: '10m',
  deadline: '12h',
};
