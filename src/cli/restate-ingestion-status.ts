import type { IngestionPauseProgress } from '../shared/progress';

/**
 * What a view restate with `ingestion: paused-by-operator` asks of the operator or tells them about ingestion into
 * its view's source, in one phrase: keep it running, pause it and confirm, keep it paused, or it may resume.
 */
export function ingestionPhrase(workflowId: string, s: IngestionPauseProgress): string {
  const partitions = s.partitions.join(', ');
  switch (s.state) {
    case 'restating-before-pause':
      return `restating the partitions before ${partitions} while ingestion into ${s.source} runs; a confirm follows`;
    case 'awaiting-confirm':
      return `waiting for confirm: pause ingestion into ${s.source}, then run ch-backfill confirm ${workflowId}`;
    case 'restating':
      return `restating ${partitions}: keep ingestion into ${s.source} paused`;
    case 'ingestion-may-resume':
      return (
        `ingestion into ${s.source} may resume` +
        (s.mayResumeAt ? ` since ${new Date(s.mayResumeAt).toISOString()}` : '')
      );
  }
}
