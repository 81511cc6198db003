import { qualifiedName, type TableRef } from './table-ref';

/**
 * The workflow id of the one writer of a target partition: `partition:<database>.<table>/<partition id>`, from the
 * resolved target, so `events_daily` and `default.events_daily` name the same lock. Every job kind starts its
 * partition work under this id with a policy that refuses a second running workflow, so Temporal itself
 * guarantees at most one writer per partition at a time.
 */
export function partitionLockId(target: TableRef, partitionId: string): string {
  return `partition:${qualifiedName(target)}/${partitionId}`;
}
