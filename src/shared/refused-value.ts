/** Longest part of a refused value a message repeats; the rest is cut to `…`. */
const MAX_ECHO = 80;

/**
 * A refused value as a refusal message names it: bare when it is a plain token (`2025-02-30`, `10x`), quoted
 * as JSON otherwise (`"user id"`, `"host'"`), so quotes, spaces and control characters stay visible.
 */
export function refusedValue(value: unknown): string {
  const text = typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value));
  const cut = text.length > MAX_ECHO ? `${text.slice(0, MAX_ECHO)}…` : text;
  return typeof value === 'string' && /^[\w.:+-]+$/.test(cut) ? cut : JSON.stringify(cut);
}

/** A zod `error` option naming the value it refuses: `(iss) => "<value> <reason>"`. */
export function refusing(reason: string): { error: (issue: { input?: unknown }) => string } {
  return { error: (issue) => `${refusedValue(issue.input)} ${reason}` };
}
