/** The innermost message of an error's `cause` chain: for a failed child workflow, the activity's own words. */
export function innermostMessage(err: unknown): string {
  let e = err as { message?: string; cause?: unknown } | undefined;
  while (e?.cause) e = e.cause as typeof e;
  return e?.message ?? String(err);
}

/**
 * The type of the innermost failure of an error's `cause` chain that has one (an `ApplicationFailure`'s type, e.g.
 * `ValidationMismatchError`), else the innermost error's name: a short, stable metric label.
 */
export function innermostFailureType(err: unknown): string {
  let type: string | undefined;
  let e = err as { name?: string; type?: string | null; cause?: unknown } | undefined;
  for (; e; e = e.cause as typeof e) {
    if (typeof e.type === 'string' && e.type) type = e.type;
    if (!e.cause) return type ?? e.name ?? 'Error';
  }
  return type ?? 'Error';
}
