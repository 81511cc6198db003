import { WorkflowFailedError, type Client } from '@temporalio/client';
import { ApplicationFailure, defaultPayloadConverter } from '@temporalio/common';
import type { ValidationReport } from '../../shared/validation-report';
import { sameTarget } from '../listed-job';
import { firstEvent } from './history-events';
import type { ReferenceRun } from './job-report';

/** How many `validate` runs are looked at (newest first, as visibility lists them), and how many are kept. */
const SCANNED = 50;
const KEPT = 10;

interface ValidateInputSeen {
  job?: { target?: { table?: string } };
  from?: string;
  to?: string;
}

/**
 * The `validate` runs (against a Spark export or another reference) of `target` over days overlapping
 * `from … to`: their reports, from the workflows' results (a mismatch fails the run with the report as details).
 * Bounded: the newest {@link SCANNED} validate runs are looked at, {@link KEPT} kept.
 */
export async function referenceRuns(
  client: Client,
  target: string,
  from?: string,
  to?: string,
): Promise<ReferenceRun[]> {
  const runs: ReferenceRun[] = [];
  let scanned = 0;
  for await (const w of client.workflow.list({ query: "WorkflowType = 'validateWorkflow'" })) {
    if (++scanned > SCANNED || runs.length >= KEPT) break;
    const payload = (await firstEvent(client, w.workflowId, w.runId)).workflowExecutionStartedEventAttributes?.input
      ?.payloads?.[0];
    const input = payload ? defaultPayloadConverter.fromPayload<ValidateInputSeen>(payload) : {};
    const table = input.job?.target?.table;
    if (!table || !sameTarget(target, table)) continue;
    if (from && to && input.from && input.to && (input.to < from || input.from > to)) continue;
    const run: ReferenceRun = { workflowId: w.workflowId, status: w.status.name, startedAt: w.startTime.getTime() };
    if (w.status.name === 'RUNNING') run.note = 'still running';
    else {
      const handle = client.workflow.getHandle(w.workflowId, w.runId);
      const report = await handle.result().then(
        (r: ValidationReport) => r,
        (err: unknown) => {
          const cause = err instanceof WorkflowFailedError ? err.cause : undefined;
          return cause instanceof ApplicationFailure ? (cause.details?.[0] as ValidationReport | undefined) : undefined;
        },
      );
      if (report) run.report = report;
      else run.note = `ended ${w.status.name.toLowerCase()} without a report`;
    }
    runs.push(run);
  }
  return runs;
}
