import type {
  BackfillProgress,
  IngestionPauseProgress,
  PartitionProgress,
  PauseState,
  SnapshotProgress,
} from '../../shared/progress';

/**
 * Why an operator's command does not apply to a job as it stands, or undefined when it does. The Update
 * validators (src/workflows/engine/partition-loop.ts, partition-workflow.ts, the snapshot job's confirm) throw these
 * reasons: a refused Update leaves nothing in the workflow's history. Plain functions of the job's state, so they
 * can be unit-tested.
 */

/** `pause`: refused when an operator paused already, unless `now` still has a running INSERT to cancel. */
export function pauseRefusal(pause: PauseState | undefined, now: boolean, inserting: number): string | undefined {
  if (pause?.manual === undefined) return undefined;
  if (now && inserting > 0) return undefined;
  return `already paused (${pause.manual})` + (now ? ': no INSERT is running for --now to cancel' : '');
}

/** `resume`: refused unless an operator paused the job; a pause for load lifts itself. */
export function resumeRefusal(pause: PauseState | undefined): string | undefined {
  if (pause?.manual !== undefined) return undefined;
  if (pause?.load !== undefined) {
    return `not paused by an operator: paused for cluster load (${pause.load}), which resumes by itself after its cool-down`;
  }
  return 'not paused';
}

/** `approve`/`reject` of `partition`: refused unless it awaits approval and has no answer yet. */
export function approvalRefusal(
  partition: string | undefined,
  entry: PartitionProgress | undefined,
  answer: 'approve' | 'reject' | undefined,
): string | undefined {
  if (partition === undefined || partition === '') return 'name the partition, e.g. 202401';
  if (!entry) return `${partition} is not a partition of this job`;
  if (answer) return `${partition} was already ${answer === 'approve' ? 'approved' : 'rejected'}`;
  if (entry.step !== 'awaiting-approval') return `${partition} is not awaiting approval (${stateOf(entry)})`;
  return undefined;
}

function stateOf(entry: PartitionProgress): string {
  if (entry.state === 'running' && entry.step) return `running: ${entry.step}`;
  return entry.state;
}

/** `confirm`: refused unless a snapshot job awaits a confirm it has not received yet. */
export function confirmRefusal(
  phase: BackfillProgress['phase'],
  snapshot: SnapshotProgress | undefined,
  confirmed: boolean,
): string | undefined {
  if (!snapshot) {
    return phase === 'planning'
      ? 'nothing to confirm yet: the job is still checking its plan'
      : 'nothing to confirm: only a view job with cutoff: snapshot waits for one';
  }
  if (snapshot.state === 'snapshotting' || (snapshot.state === 'awaiting-confirm' && confirmed)) {
    return `already confirmed: the snapshot ${snapshot.table} is being taken; keep inserts into ${snapshot.source} paused`;
  }
  if (snapshot.state !== 'awaiting-confirm') {
    return `nothing to confirm: the snapshot was taken and inserts into ${snapshot.source} may resume`;
  }
  return undefined;
}

/**
 * `confirm` to a view restate: refused unless it awaits a confirm it has not received yet (the partitions the live
 * view writes no more into come first; the confirm is taken once they are done).
 */
export function restateConfirmRefusal(
  phase: BackfillProgress['phase'],
  ingestion: IngestionPauseProgress | undefined,
  confirmed: boolean,
): string | undefined {
  if (!ingestion) {
    return phase === 'planning'
      ? 'nothing to confirm yet: the restate is still checking its plan'
      : 'nothing to confirm: no partition of this restate needs ingestion paused';
  }
  const source = ingestion.source;
  switch (ingestion.state) {
    case 'restating-before-pause':
      return (
        `nothing to confirm yet: the partitions the live view writes no more into are restated first; ` +
        `pause ingestion into ${source} and confirm once status says it is waiting for confirm`
      );
    case 'awaiting-confirm':
      return confirmed ? `already confirmed: keep ingestion into ${source} paused` : undefined;
    case 'restating':
      return `already confirmed: restating ${ingestion.partitions.join(', ')}; keep ingestion into ${source} paused`;
    case 'ingestion-may-resume':
      return `nothing to confirm: ingestion into ${source} may resume`;
  }
}

/** Throws `reason` (an Update validator's refusal) when there is one. */
export function refuseIf(reason: string | undefined): void {
  if (reason !== undefined) throw new Error(reason);
}
