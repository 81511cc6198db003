import type { TableRef } from './table-ref';

/**
 * A short, stable tag of one writer (a backfill, a daily run, a rollback): 8 hex digits of a 32-bit FNV-1a hash of
 * its workflow id and first run id. Pure and deterministic, so workflow code may compute it, and every retry and
 * every continued run of the same writer finds the same tables, while no other writer ever does.
 */
export function writerTag(workflowId: string, firstExecutionRunId: string): string {
  let hash = 0x811c9dc5;
  for (const ch of `${workflowId}\u0000${firstExecutionRunId}`) {
    hash ^= ch.codePointAt(0) ?? 0;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash.toString(16).padStart(8, '0');
}

/**
 * The shadow of one target partition for one writer: `<target>_v2_<partition>_<writer tag>` (the guide's `_v2`
 * convention) in the target's database. Unique per writer, so no writer can drop or truncate another's shadow.
 */
export function shadowTableFor(target: TableRef, partitionId: string, tag: string): TableRef {
  return { database: target.database, name: `${target.name}_v2_${partitionId}_${tag}` };
}

/**
 * The snapshot a `cutoff: snapshot` view job takes of its source: `<source>_snapshot_<writer tag>`, in the
 * source's database (ATTACH PARTITION … FROM needs both tables on the same disks).
 */
export function snapshotTableFor(source: TableRef, tag: string): TableRef {
  return { database: source.database, name: `${source.name}_snapshot_${tag}` };
}

/** Where one writer keeps the live partitions it replaced, for `rollback`: `<target>_backup_<writer tag>`. */
export function backupTableFor(target: TableRef, tag: string): TableRef {
  return { database: target.database, name: `${target.name}_backup_${tag}` };
}
