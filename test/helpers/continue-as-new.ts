import { randomUUID } from 'node:crypto';
import type { WorkflowHandle } from '@temporalio/client';
import { progressQuery } from '../../src/shared/messages';
import type { BackfillProgress } from '../../src/shared/progress';
import { createHarness, type Harness } from './backfill-harness';

/** A harness whose server suggests continue-as-new after 150 history events instead of thousands. */
export function createContinueAsNewHarness(): Promise<Harness> {
  return createHarness(['--dynamic-config-value', 'limit.historyCount.suggestContinueAsNew=150']);
}

/** A workflow run to its end: its result, its first and last run ids and its progress at the end. */
export interface RunAcrossContinueAsNew<S> {
  summary: S;
  firstRunId: string;
  lastRunId: string;
  progress: BackfillProgress;
}

/**
 * Starts `workflowType` with `input` while a worker runs, lets `meanwhile` act on it (signals, updates), and waits
 * for its result, following its continue-as-new runs.
 */
export function runAcrossContinueAsNew<S>(
  h: Harness,
  workflowType: string,
  input: unknown,
  meanwhile: (handle: WorkflowHandle) => Promise<void> = async () => undefined,
): Promise<RunAcrossContinueAsNew<S>> {
  return h.withWorker(async () => {
    const handle = await h.env.client.workflow.start(workflowType, {
      taskQueue: h.taskQueue,
      workflowId: `${workflowType}-${randomUUID()}`,
      args: [input],
    });
    await meanwhile(handle);
    const summary = (await handle.result()) as S;
    return {
      summary,
      firstRunId: handle.firstExecutionRunId,
      lastRunId: (await handle.describe()).runId,
      progress: await handle.query(progressQuery),
    };
  });
}

/** The run continued as new at least once, and its last run is not its first. */
export function expectContinuedAsNew(run: RunAcrossContinueAsNew<unknown>): void {
  expect(run.lastRunId).not.toBe(run.firstRunId);
  expect(run.progress.continuedAsNew).toBeGreaterThanOrEqual(1);
}
