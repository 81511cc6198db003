import { Client, Connection, WorkflowFailedError } from '@temporalio/client';
import { DEFAULT_TASK_QUEUE } from '../shared/task-queue';
import { temporalConfigFromEnv } from '../temporal/connection';

/** The task queue the CLI starts workflows on: `TEMPORAL_TASK_QUEUE` or the default. */
export function taskQueueFromEnv(env: NodeJS.ProcessEnv = process.env): string {
  return env.TEMPORAL_TASK_QUEUE || DEFAULT_TASK_QUEUE;
}

/** A {@link WorkflowFailedError} that knows which workflow failed, so the message can say what to inspect. */
export class NamedWorkflowFailedError extends WorkflowFailedError {
  constructor(
    readonly workflowId: string,
    failed: WorkflowFailedError,
  ) {
    super(failed.message, failed.cause, failed.retryState);
  }
}

/**
 * Makes every failed workflow result of `client` (from `execute` and from any handle's `result()`, which both go
 * through `client.workflow.result`) a {@link NamedWorkflowFailedError}: the SDK's error does not carry the workflow
 * id, and the commands that wait on a result should not each have to add it.
 */
export function nameWorkflowFailures(client: Client): Client {
  const workflows = client.workflow;
  const result = workflows.result.bind(workflows);
  workflows.result = ((workflowId, runId, opts) =>
    result(workflowId, runId, opts).catch((err: unknown) => {
      throw err instanceof WorkflowFailedError && !(err instanceof NamedWorkflowFailedError)
        ? new NamedWorkflowFailedError(workflowId, err)
        : err;
    })) as typeof workflows.result;
  return client;
}

/**
 * A Temporal client for the server configured the standard Temporal way (environment variables and `temporal.toml`
 * profiles, see {@link temporalConfigFromEnv}); its failed workflow results name their workflow.
 */
export async function connectTemporalClient(env: NodeJS.ProcessEnv = process.env): Promise<Client> {
  const target = temporalConfigFromEnv(env);
  const connection = await Connection.connect(target.connectionOptions);
  return nameWorkflowFailures(new Client({ connection, namespace: target.namespace }));
}
