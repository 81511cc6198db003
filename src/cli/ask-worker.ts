import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Client, WorkflowStartOptions } from '@temporalio/client';
import type { Workflow, WorkflowResultType } from '@temporalio/common';
import { HELPER_ROLE, backfillRoleKey } from '../shared/search-attributes';
import { CliError } from './cli-error';
import { taskQueueFromEnv } from './temporal-client';
import { OPERATOR_PRIORITY } from '../shared/task-priority';

export interface AskOptions {
  /** The workflow id is `<idPrefix>-<uuid>`. */
  idPrefix: string;
  /** What is asked, for the message when no worker answers, e.g. `dry run`. */
  what: string;
  /** How long the workflow may run in all, e.g. `1h`. */
  executionTimeout?: string;
  /** How long a worker has to pick up the workflow's first task. */
  pickupMs?: number;
}

/**
 * Runs a workflow of its own on the worker and returns its result, for a question that needs one (`plan --test-day`
 * names its scratch table after its workflow); read-only questions go to the service workflow (`askService`). In
 * embedded mode only the worker may open the data directory. When no worker picks it up within `pickupMs` (its
 * history still holds only "started" and "task scheduled"), the workflow is terminated and the error says so.
 * The workflow is tagged `BackfillRole = 'helper'`, so the Web UI's view `BackfillRole IS NULL` leaves it out; on a
 * server without that search attribute registered it is started untagged (`doctor` says how to register it).
 */
export async function askWorker<W extends Workflow>(
  client: Client,
  workflowType: string,
  args: Parameters<W>,
  { idPrefix, what, executionTimeout = '1h', pickupMs = 20_000 }: AskOptions,
): Promise<WorkflowResultType<W>> {
  const taskQueue = taskQueueFromEnv();
  // The SDK types `args` by the workflow's own parameters, which a generic `W` cannot be shown to satisfy.
  const options = {
    taskQueue,
    workflowId: `${idPrefix}-${randomUUID()}`,
    args,
    workflowExecutionTimeout: executionTimeout,
    priority: OPERATOR_PRIORITY,
  } as unknown as WorkflowStartOptions<W>;
  const handle = await client.workflow
    .start<W>(workflowType, { ...options, typedSearchAttributes: [{ key: backfillRoleKey, value: HELPER_ROLE }] })
    .catch((err: unknown) => {
      if (!String((err as Error).message).includes(backfillRoleKey.name)) throw err;
      return client.workflow.start<W>(workflowType, options);
    });
  const result = handle.result();
  const timer = new AbortController();
  const answered = await Promise.race([
    result.then(
      () => true,
      () => true,
    ),
    sleep(pickupMs, false, { signal: timer.signal }).catch(() => false),
  ]);
  // An unfinished timer would keep the process alive for the rest of the wait.
  timer.abort();
  if (!answered && (await handle.describe()).historyLength <= 2) {
    await handle.terminate(`no worker picked up the ${what}`);
    result.catch(() => undefined);
    throw new CliError(
      `no worker on task queue ${taskQueue} picked up the ${what} within ${pickupMs / 1000} s: ` +
        `start one with TEMPORAL_TASK_QUEUE=${taskQueue} npm run worker`,
    );
  }
  return result;
}
