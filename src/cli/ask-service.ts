import {
  WithStartWorkflowOperation,
  WorkflowUpdateFailedError,
  type Client,
  type WorkflowUpdateHandle,
} from '@temporalio/client';
import type { Workflow, WorkflowResultType } from '@temporalio/common';
import { innermostMessage } from '../shared/failure-message';
import { HELPER_ROLE, backfillRoleKey } from '../shared/search-attributes';
import {
  ASK_UPDATE,
  SERVICE_WORKFLOW_TYPE,
  serviceWorkflowId,
  type ServiceAsk,
  type ServiceQuestion,
} from '../shared/service-workflow';
import { OPERATOR_PRIORITY } from '../shared/task-priority';
import { CliError } from './cli-error';
import { taskQueueFromEnv } from './temporal-client';

/** No worker on the task queue accepted a question within its pickup time. */
export class NoWorkerError extends CliError {}

export interface ServiceAskOptions {
  /** What is asked, for the messages, e.g. `dry run`. */
  what: string;
  /** How long a worker has to accept the question. */
  pickupMs?: number;
}

/**
 * Asks the task queue's service workflow (`backfillServiceWorkflow`, started on first use) a read-only question
 * as an Update that runs the body of the workflow type named `question` with `args`, and returns its answer: the way
 * the CLI asks the worker, since in embedded mode only the worker may open the data directory, without leaving a
 * workflow per question in the Web UI. The service is tagged `BackfillRole = 'helper'` (untagged on a server without
 * that search attribute).
 *
 * When no worker accepts the Update within `pickupMs` this throws {@link NoWorkerError}; the service is terminated
 * only if no worker ever ran it (its history holds only "started" and "task scheduled"), so a task queue nobody
 * serves keeps no workflow running. A failed answer is a {@link CliError} with the activity's own words.
 */
export async function askService<W extends Workflow>(
  client: Client,
  question: ServiceQuestion & string,
  args: Parameters<W>,
  { what, pickupMs = 20_000 }: ServiceAskOptions,
): Promise<WorkflowResultType<W>> {
  const taskQueue = taskQueueFromEnv();
  const workflowId = serviceWorkflowId(taskQueue);
  const ask: ServiceAsk = { question, args };
  const send = (tagged: boolean) => {
    const startWorkflowOperation = new WithStartWorkflowOperation(SERVICE_WORKFLOW_TYPE, {
      workflowId,
      taskQueue,
      workflowIdConflictPolicy: 'USE_EXISTING',
      priority: OPERATOR_PRIORITY,
      ...(tagged ? { typedSearchAttributes: [{ key: backfillRoleKey, value: HELPER_ROLE }] } : {}),
    });
    return client.workflow.startUpdateWithStart<Workflow, WorkflowResultType<W>, [ServiceAsk]>(ASK_UPDATE, {
      args: [ask],
      waitForStage: 'ACCEPTED',
      startWorkflowOperation,
    });
  };
  const timer = new AbortController();
  const timeout = setTimeout(() => timer.abort(), pickupMs);
  let update: WorkflowUpdateHandle<WorkflowResultType<W>>;
  try {
    update = await client.withAbortSignal(timer.signal, () =>
      send(true).catch((err: unknown) => {
        if (!String((err as Error).message).includes(backfillRoleKey.name)) throw err;
        return send(false);
      }),
    );
  } catch (err) {
    if (!timer.signal.aborted) throw failed(err, what, workflowId);
    const service = client.workflow.getHandle(workflowId);
    const history = await service.describe().then(
      (d) => d.historyLength,
      () => Infinity,
    );
    if (history <= 2) {
      await service.terminate(`no worker picked up the ${what}`).catch(() => undefined);
    }
    throw new NoWorkerError(
      `no worker on task queue ${taskQueue} picked up the ${what} within ${pickupMs / 1000} s: ` +
        `start one with TEMPORAL_TASK_QUEUE=${taskQueue} npm run worker`,
      { cause: err },
    );
  } finally {
    clearTimeout(timeout);
  }
  return update.result().catch((err: unknown) => {
    throw failed(err, what, workflowId);
  });
}

/** A failed answer in the words a failed read-only workflow had: the innermost cause, and where to inspect it. */
function failed(err: unknown, what: string, workflowId: string): unknown {
  if (!(err instanceof WorkflowUpdateFailedError)) return err;
  return new CliError(
    `the ${what} failed: ${innermostMessage(err)} (inspect it with: temporal workflow show --workflow-id ${workflowId})`,
    { cause: err },
  );
}
