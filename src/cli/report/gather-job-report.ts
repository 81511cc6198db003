import type { Client } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import { queryFailure } from '../commands/backfill-handle';
import { eventMs, firstEvent, historyEvents, runChain } from './history-events';
import type { JobReport, PartitionReport } from './job-report';
import { innermostFailure, readWriterHistory } from './partition-writer-history';
import { referenceRuns } from './reference-runs';
import { errorLine } from '../error-line';
import { writerStatements } from './report-statements';
import { ledgerRowsOf } from './report-ledger';

/** How many partition writers' histories are read at once. */
const READERS = 8;

/** What a job's input tells the report, whatever its kind (each field read only when present). */
interface JobInputSeen {
  job?: {
    kind?: string;
    source?: { table?: string };
    target?: { table?: string };
    ledger?: { table?: string };
    cluster?: string;
  };
  from?: string;
  to?: string;
}

/** The partition id of a writer's workflow id (`partition:<database>.<table>/<partition>`). */
const partitionOf = (writerId: string): string => writerId.slice(writerId.lastIndexOf('/') + 1);

/**
 * Gathers a job's report, read-only: its description and every run's history from Temporal, streamed page by page
 * and kept only as far as each partition's writer (asked for, waited for a lock, started); then each writer's own
 * history (a few at a time) with its task, which renders its statements; the ledger rows the job recorded and
 * `validate` runs of its target.
 */
export async function gatherJobReport(client: Client, workflowId: string): Promise<JobReport> {
  const description = await client.workflow.getHandle(workflowId).describe().catch(queryFailure(workflowId));
  const runIds = await runChain(client, workflowId, description.runId);
  const started = (await firstEvent(client, workflowId, runIds[0])).workflowExecutionStartedEventAttributes;
  const payload = started?.input?.payloads?.[0];
  const input: JobInputSeen = payload ? (defaultPayloadConverter.fromPayload(payload) ?? {}) : {};

  const partitions = new Map<string, PartitionReport>();
  let failure: string | undefined;
  for (const runId of runIds) {
    for await (const event of historyEvents(client, workflowId, runId)) {
      const initiated = event.startChildWorkflowExecutionInitiatedEventAttributes;
      // A lock held beside a writer (a restated chain's lower level) writes nothing: its writer is reported.
      const lockOnly = initiated?.workflowType?.name === 'partitionLockWorkflow';
      if (initiated?.workflowId && !lockOnly && !partitions.has(initiated.workflowId)) {
        partitions.set(initiated.workflowId, {
          partition: partitionOf(initiated.workflowId),
          writerId: initiated.workflowId,
          state: 'waiting',
          queuedAt: eventMs(event),
          lockWaits: 0,
          spans: [],
        });
      }
      const busy = event.startChildWorkflowExecutionFailedEventAttributes;
      const waiting = busy?.workflowId ? partitions.get(busy.workflowId) : undefined;
      if (waiting) waiting.lockWaits++;
      const child = event.childWorkflowExecutionStartedEventAttributes?.workflowExecution;
      const writer = child?.workflowId ? partitions.get(child.workflowId) : undefined;
      if (writer && child?.runId) writer.writerRunId = child.runId;
      if (event.workflowExecutionFailedEventAttributes) {
        failure = innermostFailure(event.workflowExecutionFailedEventAttributes.failure);
      }
    }
  }

  const statements = writerStatements(workflowId, description.type, input.job);
  const pending = [...partitions.values()].filter((p) => p.writerRunId !== undefined);
  await Promise.all(
    Array.from({ length: READERS }, async () => {
      for (let p = pending.shift(); p; p = pending.shift()) {
        // The task is rendered into the partition's statements here and not kept (a view's SQL, an import's files).
        const { task, ...seen } = await readWriterHistory(client, p.writerId, p.writerRunId as string);
        Object.assign(p, seen);
        if (!task || !statements.render) continue;
        try {
          p.statements = statements.render(task);
        } catch (err) {
          p.statementsNote = `not rendered: ${errorLine(err)}`;
        }
      }
    }),
  );

  const target = input.job?.target?.table;
  const ledger = target
    ? await ledgerRowsOf(client, target, input.job?.ledger?.table, workflowId, input.job?.cluster)
    : { rows: new Map(), note: 'the job names no target table: no ledger to read' };
  for (const p of partitions.values()) p.ledger = ledger.rows.get(p.partition);

  return {
    workflowId,
    workflowType: description.type,
    status: description.status.name,
    startedAt: description.startTime.getTime(),
    closedAt: description.closeTime?.getTime(),
    runIds,
    target,
    source: input.job?.source?.table,
    from: input.from,
    to: input.to,
    job: input.job,
    partitions: [...partitions.values()].sort((a, b) => a.partition.localeCompare(b.partition)),
    failure,
    ledgerNote: ledger.note,
    references: target ? await referenceRuns(client, target, input.from, input.to) : [],
    statementsSource: statements.source,
    generatedAt: Date.now(),
  };
}
