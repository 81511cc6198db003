import { WorkflowNotFoundError, type WorkflowHandle } from '@temporalio/client';
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

/** The input a backfill's (latest) run started with, read from its history. */
export async function backfillInputOf(handle: WorkflowHandle): Promise<BackfillInputRaw> {
  const history = await handle.fetchHistory();
  const payload = history.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0];
  if (!payload) throw new CliError(`backfill ${handle.workflowId}: its input is not in its history`);
  return defaultPayloadConverter.fromPayload<BackfillInputRaw>(payload);
}
