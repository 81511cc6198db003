import { WorkflowNotFoundError, WorkflowUpdateFailedError, type WorkflowHandle } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import type { BackfillInputRaw } from '../../shared/backfill-input';
import { CliError } from '../cli-error';

/** Turns a failed query or signal into one line naming the backfill. */
export function queryFailure(workflowId: string) {
  return (err: unknown): never => {
    if (err instanceof WorkflowNotFoundError) throw new CliError(`no backfill with workflow id ${workflowId}`);
    throw new CliError(`backfill ${workflowId}: ${err instanceof Error ? err.message : String(err)}`);
  };
}

const UNHANDLED = /^No registered handler for update: (\w+)/;
const STARTING_MS = 10_000;

/**
 * Sends an operator's Update (`start` sends it and returns what the caller awaits: its result, or its handle) and
 * turns a failure into one line naming the job: a refusal by its validator gives the job's reason
 * (`backfill-2024: already paused (merges)`), which left nothing in the workflow's history. A job installs its
 * handlers in its first workflow task, once its input is checked: an Update arriving sooner finds none and is
 * tried again for up to 10 s (a signal would have waited in the buffer; an Update is rejected instead).
 */
export async function sendUpdate<T>(workflowId: string, start: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + STARTING_MS;
  for (;;) {
    try {
      return await start();
    } catch (err) {
      const reason = err instanceof WorkflowUpdateFailedError ? err.cause?.message : undefined;
      const unhandled = reason?.match(UNHANDLED);
      if (unhandled && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 250));
        continue;
      }
      if (unhandled) throw new CliError(`${workflowId} takes no ${unhandled[1]}: it is not a job that takes one`);
      if (reason !== undefined) throw new CliError(`${workflowId}: ${reason}`);
      return queryFailure(workflowId)(err);
    }
  }
}

/** The input a backfill's (latest) run started with, read from its history. */
export async function backfillInputOf(handle: WorkflowHandle): Promise<BackfillInputRaw> {
  const history = await handle.fetchHistory();
  const payload = history.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0];
  if (!payload) throw new CliError(`backfill ${handle.workflowId}: its input is not in its history`);
  return defaultPayloadConverter.fromPayload<BackfillInputRaw>(payload);
}
