import type { Client } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import type { temporal } from '@temporalio/proto';
import type { PartitionResult } from '../../shared/backfill-results';
import type { PartitionTask } from '../../shared/partition-task';
import { eventMs, historyEvents } from './history-events';
import type { PartitionReportState, StepSpan } from './job-report';

/** The activities of a partition writer, by the step of the timeline they belong to (older generations included). */
const STEP_OF_ACTIVITY: Record<string, StepSpan['step']> = {
  buildValidatedShadow: 'build',
  prepareShadow: 'build',
  buildShadow: 'build',
  validateShadow: 'build',
  backupPartition: 'backup',
  swapPartition: 'swap',
};

/** The steps a writer runs as local activities (recorded as markers), by the step of the timeline they belong to. */
const STEP_OF_LOCAL_ACTIVITY: Record<string, StepSpan['step']> = { swapPartition: 'swap' };

/** What Temporal's SDK core records of a local activity in its marker's `data` (the fields read here). */
interface LocalActivityMarkerData {
  activity_type?: string;
  original_schedule_time?: { seconds: number; nanos: number } | null;
  complete_time?: { seconds: number; nanos: number } | null;
}

const markerMs = (t: { seconds: number; nanos: number }): number => t.seconds * 1000 + Math.floor(t.nanos / 1e6);

/** The span of a step run as a local activity (the swap's try in the workflow task), from its marker. */
function localActivitySpan(marker: temporal.api.history.v1.IMarkerRecordedEventAttributes): StepSpan | undefined {
  if (marker.markerName !== 'core_local_activity') return undefined;
  const payload = marker.details?.data?.payloads?.[0];
  const data = payload ? defaultPayloadConverter.fromPayload<LocalActivityMarkerData>(payload) : undefined;
  const step = STEP_OF_LOCAL_ACTIVITY[data?.activity_type ?? ''];
  if (!data?.activity_type || !step || !data.original_schedule_time || !data.complete_time) return undefined;
  return {
    step,
    activity: data.activity_type,
    start: markerMs(data.original_schedule_time),
    end: markerMs(data.complete_time),
  };
}

/** What one partition writer's own history tells: its task, when it ran, its steps' spans, and how it ended. */
export interface WriterHistory {
  /** The task the writer was started with (its shadow, salt, backup, server profile): its statements' values. */
  task?: PartitionTask;
  state: PartitionReportState;
  startedAt?: number;
  closedAt?: number;
  spans: StepSpan[];
  result?: PartitionResult;
  error?: string;
}

/** The innermost message of a failure (the cause a partition failed for, not its wrapper's). */
export function innermostFailure(failure: temporal.api.failure.v1.IFailure | null | undefined): string | undefined {
  let f = failure;
  while (f?.cause) f = f.cause;
  return f?.message ?? undefined;
}

/**
 * Reads one run of a partition writer (a child workflow, small whatever the job's size): its task, the spans of its
 * step activities (shadow built and validated, backup, swap; the swap's try as a local activity from its marker),
 * from their scheduling to their close, and its result or
 * failure. The gaps between spans are where it waited (a pause, an approval, a worker).
 */
export async function readWriterHistory(client: Client, workflowId: string, runId: string): Promise<WriterHistory> {
  const out: WriterHistory = { state: 'running', spans: [] };
  const open = new Map<string, StepSpan>();
  for await (const event of historyEvents(client, workflowId, runId)) {
    const at = eventMs(event);
    const id = String(event.eventId);
    const started = event.workflowExecutionStartedEventAttributes;
    if (started) {
      out.startedAt = at;
      const payload = started.input?.payloads?.[0];
      out.task = payload ? defaultPayloadConverter.fromPayload<PartitionTask>(payload) : undefined;
    }
    const scheduled = event.activityTaskScheduledEventAttributes;
    const activity = scheduled?.activityType?.name ?? '';
    if (scheduled && STEP_OF_ACTIVITY[activity]) {
      const span: StepSpan = { step: STEP_OF_ACTIVITY[activity], activity, start: at };
      open.set(id, span);
      out.spans.push(span);
    }
    const local = event.markerRecordedEventAttributes && localActivitySpan(event.markerRecordedEventAttributes);
    if (local) out.spans.push(local);
    const closedActivity =
      event.activityTaskCompletedEventAttributes ??
      event.activityTaskFailedEventAttributes ??
      event.activityTaskTimedOutEventAttributes ??
      event.activityTaskCanceledEventAttributes;
    if (closedActivity) {
      const span = open.get(String(closedActivity.scheduledEventId));
      if (span) span.end = at;
    }
    const completed = event.workflowExecutionCompletedEventAttributes;
    if (completed) {
      const payload = completed.result?.payloads?.[0];
      out.result = payload ? defaultPayloadConverter.fromPayload<PartitionResult>(payload) : undefined;
      Object.assign(out, { state: 'swapped', closedAt: at });
    }
    if (event.workflowExecutionFailedEventAttributes) {
      const error = innermostFailure(event.workflowExecutionFailedEventAttributes.failure);
      Object.assign(out, { state: 'failed', closedAt: at, error });
    }
    if (event.workflowExecutionTimedOutEventAttributes) {
      Object.assign(out, { state: 'failed', closedAt: at, error: 'timed out' });
    }
    if (event.workflowExecutionTerminatedEventAttributes) {
      const reason = event.workflowExecutionTerminatedEventAttributes.reason;
      Object.assign(out, { state: 'failed', closedAt: at, error: `terminated${reason ? `: ${reason}` : ''}` });
    }
    if (event.workflowExecutionCanceledEventAttributes) Object.assign(out, { state: 'cancelled', closedAt: at });
  }
  return out;
}
