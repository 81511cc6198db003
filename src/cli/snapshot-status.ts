import type { SnapshotProgress } from '../shared/progress';

/**
 * What a `cutoff: snapshot` view job asks of the operator or tells them about its snapshot, in one phrase: pause
 * inserts and confirm, keep them paused, inserts may resume, or what became of the snapshot.
 */
export function snapshotPhrase(workflowId: string, s: SnapshotProgress): string {
  switch (s.state) {
    case 'awaiting-confirm':
      return (
        `waiting for confirm: pause inserts into ${s.source}, then run ch-backfill confirm ${workflowId}` +
        (s.retryReason ? ` (the last confirm created nothing: ${s.retryReason})` : '')
      );
    case 'snapshotting':
      return `taking the snapshot ${s.table}: keep inserts into ${s.source} paused`;
    case 'inserts-may-resume':
      return `inserts may resume into ${s.source}`;
    case 'dropped':
      return `snapshot ${s.table} dropped`;
    case 'kept':
      return `snapshot ${s.table} kept: the failed partitions can be filled from it; drop it when done`;
  }
}

/**
 * The status lines of a snapshot job beyond the partitions: what it asks of the operator now, and, once the view
 * exists, since when inserts may resume and what the snapshot holds.
 */
export function snapshotLines(workflowId: string, s: SnapshotProgress): string[] {
  const since = s.insertsMayResumeAt
    ? `inserts may resume into ${s.source} since ${new Date(s.insertsMayResumeAt).toISOString()}: ` +
      `the view writes every row inserted from then on, the backfill the ${(s.rows ?? 0).toLocaleString('en-US')} ` +
      `rows of the snapshot ${s.table}`
    : undefined;
  if (s.state === 'inserts-may-resume') return [since ?? snapshotPhrase(workflowId, s)];
  return [...(since ? [since] : []), snapshotPhrase(workflowId, s)];
}
