import type { ValidationCheck } from '../../shared/backfill-results';

/** Equal as exact integers, or within a relative tolerance when either side is a float. */
export function valuesAgree(expected: string | number, actual: string | number, relativeTolerance: number): boolean {
  const e = String(expected);
  const a = String(actual);
  if (/^-?\d+$/.test(e) && /^-?\d+$/.test(a)) return BigInt(e) === BigInt(a);
  const x = Number(e);
  const y = Number(a);
  return Math.abs(x - y) <= relativeTolerance * Math.max(Math.abs(x), Math.abs(y));
}

/** One named check, with both sides as text for the report. */
export function validationCheck(
  name: string,
  expected: string | number,
  actual: string | number,
  tolerance: number,
): ValidationCheck {
  return { name, expected: String(expected), actual: String(actual), ok: valuesAgree(expected, actual, tolerance) };
}
