/**
 * A UTC instant given in epoch seconds, to the second: `YYYY-MM-DDThh:mm:ssZ`, the form a job's cutoff is
 * written in. Pass `Math.floor(ms / 1000)` for an instant in milliseconds.
 */
export function isoOfEpochSeconds(seconds: number): string {
  return new Date(seconds * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}
