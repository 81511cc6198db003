import type { TableRef } from './backfill-results';

/**
 * The shadow of `target` for one partition or day: `<target>_v2_<suffix>`, the guide's `_v2` convention, in the
 * target's database. Deterministic, so a retried step finds the same table.
 */
export function shadowTableFor(target: TableRef, suffix: string): TableRef {
  return { database: target.database, name: `${target.name}_v2_${suffix}` };
}
