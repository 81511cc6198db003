import type { Client } from '@temporalio/client';
import type { temporal } from '@temporalio/proto';

export type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

const PAGE_SIZE = 500;

/**
 * The events of one workflow run, page by page as the server returns them, so a long job's history is never held
 * whole: a caller keeps only what it needs of each event. A running workflow's events end at the latest one.
 */
export async function* historyEvents(client: Client, workflowId: string, runId: string): AsyncGenerator<HistoryEvent> {
  let nextPageToken: Uint8Array | undefined;
  do {
    const page = await client.workflowService.getWorkflowExecutionHistory({
      namespace: client.options.namespace,
      execution: { workflowId, runId },
      maximumPageSize: PAGE_SIZE,
      nextPageToken,
    });
    yield* page.history?.events ?? [];
    nextPageToken = page.nextPageToken && page.nextPageToken.length > 0 ? page.nextPageToken : undefined;
  } while (nextPageToken);
}

/** The first event of a run (one page of one event, however long the history). */
export async function firstEvent(client: Client, workflowId: string, runId: string): Promise<HistoryEvent> {
  const { history } = await client.workflowService.getWorkflowExecutionHistory({
    namespace: client.options.namespace,
    execution: { workflowId, runId },
    maximumPageSize: 1,
  });
  const event = history?.events?.[0];
  if (!event) throw new Error(`workflow ${workflowId} run ${runId} has no history`);
  return event;
}

/** The runs of a workflow, oldest first, from its latest run back through each continue-as-new. */
export async function runChain(client: Client, workflowId: string, latestRunId: string): Promise<string[]> {
  const runs = [latestRunId];
  for (;;) {
    const started = (await firstEvent(client, workflowId, runs[0])).workflowExecutionStartedEventAttributes;
    const previous = started?.continuedExecutionRunId;
    if (!previous) return runs;
    runs.unshift(previous);
  }
}

/** An event's time in epoch milliseconds (its seconds may be a Long). */
export function eventMs(event: HistoryEvent): number {
  const ts = event.eventTime;
  return Number(ts?.seconds?.toString() ?? 0) * 1000 + Math.floor((ts?.nanos ?? 0) / 1e6);
}
