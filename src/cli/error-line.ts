import { innermostMessage } from '../shared/failure-message';
import { CliError } from './cli-error';
import { NamedWorkflowFailedError } from './temporal-client';

/**
 * The one line `ch-backfill` and `npm start` print for an error. For a failed workflow that is its innermost
 * cause, i.e. the activity's own words naming the field (`metrics.daily_sum_ctr: column "clicks" does not exist
 * …`) rather than the SDK's `Workflow execution failed: Activity task failed`, and the workflow to inspect.
 */
export function errorLine(err: unknown): string {
  if (err instanceof NamedWorkflowFailedError) {
    return (
      `workflow ${err.workflowId} failed: ${innermostMessage(err)} ` +
      `(inspect it with: temporal workflow show --workflow-id ${err.workflowId})`
    );
  }
  const message = err instanceof Error ? err.message : String(err);
  const cause = (err as { cause?: { message?: string } }).cause;
  return err instanceof CliError || !cause?.message ? message : `${message}: ${cause.message}`;
}
