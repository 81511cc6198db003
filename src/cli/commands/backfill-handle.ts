import { WorkflowNotFoundError } from '@temporalio/client';
import { CliError } from '../cli-error';

/** Turns a failed query or signal into one line naming the backfill. */
export function queryFailure(workflowId: string) {
  return (err: unknown): never => {
    if (err instanceof WorkflowNotFoundError) throw new CliError(`no backfill with workflow id ${workflowId}`);
    throw new CliError(`backfill ${workflowId}: ${err instanceof Error ? err.message : String(err)}`);
  };
}
