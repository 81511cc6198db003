import type { Client, WorkflowHandle } from '@temporalio/client';
import { tsToMs } from '@temporalio/common/lib/time';
import { temporal } from '@temporalio/proto';

type HistoryEvent = NonNullable<Awaited<ReturnType<WorkflowHandle['fetchHistory']>>['events']>[number];

/**
 * Where a backfill's time went, as the histories of the parent and its partition children record it. With
 * `parallelism: 1` the children run one after another, so wall time splits exactly into: the parent's own time
 * outside its children, the children's time outside their activities, and the activities' time.
 */
export interface HistoryTimings {
  /** The parent's `planBackfill` activity, scheduled to completed. */
  planMs: number;
  /** The parent's first workflow task (on a fresh worker it would also build the workflow sandbox). */
  firstWorkflowTaskMs: number;
  /** Each child from its first to its last history event, summed. */
  childrenMs: number;
  /** The children's activities, scheduled to completed, summed (their step timers run inside). */
  childActivitiesMs: number;
  /** Attempts beyond the first of the children's activities: their failures and backoffs count as overhead. */
  childActivityRetries: number;
  /**
   * The children's time split by the pair of consecutive history events it lies between, e.g.
   * `WORKFLOW_TASK_SCHEDULED → WORKFLOW_TASK_STARTED` (the server dispatching a workflow task), summed.
   */
  childGapsMs: Record<string, number>;
}

const shortType = (e: HistoryEvent): string =>
  (temporal.api.enums.v1.EventType[e.eventType ?? 0] ?? String(e.eventType)).replace(/^EVENT_TYPE_/, '');

/** Each history's time between consecutive events, summed per pair of event types. */
function gaps(histories: HistoryEvent[][]): Record<string, number> {
  const sums: Record<string, number> = {};
  for (const events of histories) {
    for (let i = 1; i < events.length; i++) {
      const key = `${shortType(events[i - 1])} → ${shortType(events[i])}`;
      sums[key] = (sums[key] ?? 0) + eventMs(events[i]) - eventMs(events[i - 1]);
    }
  }
  return sums;
}

const eventMs = (e: HistoryEvent | undefined): number => tsToMs(e?.eventTime);

/** Each span from an opening event to the event that names it as its start. */
function spans(
  events: HistoryEvent[],
  opens: (e: HistoryEvent) => boolean,
  openerOf: (e: HistoryEvent) => unknown,
): { opened: HistoryEvent; ms: number }[] {
  const byId = new Map(events.map((e) => [String(e.eventId), e]));
  return events.flatMap((closer) => {
    const opened = byId.get(String(openerOf(closer)));
    return opened && opens(opened) ? [{ opened, ms: eventMs(closer) - eventMs(opened) }] : [];
  });
}

const activities = (events: HistoryEvent[]) =>
  spans(
    events,
    (e) => e.activityTaskScheduledEventAttributes != null,
    (e) => e.activityTaskCompletedEventAttributes?.scheduledEventId,
  );

const sum = (xs: { ms: number }[]): number => xs.reduce((n, x) => n + x.ms, 0);

/**
 * Reads the histories of a finished backfill and of the partition workflows it started (each named by its
 * partition's lock, so the exact runs are taken from the parent's history).
 */
export async function historyTimings(client: Client, workflowId: string): Promise<HistoryTimings> {
  const history = async (id: string, runId?: string) =>
    (await client.workflow.getHandle(id, runId).fetchHistory()).events ?? [];
  const parent = await history(workflowId);
  const started = parent.flatMap((e) => e.childWorkflowExecutionStartedEventAttributes?.workflowExecution ?? []);
  const children = await Promise.all(
    started
      .filter((w) => w.workflowId?.startsWith('partition:'))
      .map((w) => history(w.workflowId ?? '', w.runId ?? undefined)),
  );

  const plan = activities(parent).find(
    (a) => a.opened.activityTaskScheduledEventAttributes?.activityType?.name === 'planBackfill',
  );
  const [firstTask] = spans(
    parent,
    (e) => e.workflowTaskScheduledEventAttributes != null,
    (e) => e.workflowTaskCompletedEventAttributes?.scheduledEventId,
  );
  if (!plan || !firstTask) throw new Error(`no completed plan in the history of ${workflowId}`);
  return {
    planMs: plan.ms,
    firstWorkflowTaskMs: firstTask.ms,
    childrenMs: children.reduce((n, c) => n + eventMs(c[c.length - 1]) - eventMs(c[0]), 0),
    childActivitiesMs: children.reduce((n, c) => n + sum(activities(c)), 0),
    childActivityRetries: children
      .flat()
      .reduce((n, e) => n + Math.max(0, (e.activityTaskStartedEventAttributes?.attempt ?? 1) - 1), 0),
    childGapsMs: gaps(children),
  };
}
