import { Context } from '@temporalio/activity';
import { CancelledFailure } from '@temporalio/common';
import type { ClickHouse } from '../../clickhouse/clickhouse';
import { currentQueryLabel, withQueryLabel } from '../../clickhouse/query-label';
import { withQueryScope } from '../../clickhouse/query-scope';
import { MetricName } from '../../shared/backfill-metrics';
import type { ValidationCheck } from '../../shared/backfill-results';
import type { SourceSnapshot } from '../../shared/ledger';
import { killQueriesWithIdPrefix, selectActivePartitionRows, selectTableExists } from '../../sql/engine/partition-ops';
import { selectQueriesRunningWithIdPrefix, type NodeTableExpression } from '../../sql/engine/query-tracking';
import { EarlierBuildRunningError, ValidationMismatchError } from './errors';
import { withHeartbeat } from './heartbeat';
import { countRunningStep } from './running-steps';
import { dialectOf, type ServerDialect } from '../../sql/engine/server-dialect';
import { qualifiedName, type TableRef } from '../../shared/table-ref';
import type { PartitionTask } from '../../shared/partition-task';

export interface StepTiming {
  durationMs: number;
}

export interface BuildResult extends StepTiming {
  /** Rows the build put into the shadow (for a day: that day's rows). */
  rowsWritten: number;
  /** The source as the build read it, just before its INSERT; absent when it has no fingerprint (or no INSERT). */
  source?: SourceSnapshot;
  /** Peak memory of the INSERT, from a server's query log (the embedded engine keeps none). */
  peakMemoryBytes?: number;
}

export interface ValidateResult extends StepTiming {
  /** Rows of the source (or backup) the shadow was built from. */
  rowsRead: number;
  checks: ValidationCheck[];
  /** Rows in the shadow's partition and in the live partition now (see `partitionRows`). */
  shadowRows: number;
  liveRows: number;
}

export interface BackupResult extends StepTiming {
  backupRows: number;
}

export interface SwapResult extends StepTiming {
  /**
   * `replaced` from the shadow, or `dropped` because the shadow holds nothing in the partition; `moved` (appended)
   * for a view's partition.
   */
  action: 'replaced' | 'dropped' | 'unchanged' | 'moved';
}

/**
 * Rows of one partition, as a read that must see every earlier write: from its active parts' metadata on one server
 * (reads no data), from the table with sequential consistency on Cloud (`dialect`, from the task's server; see
 * `selectActivePartitionRows`).
 */
export async function partitionRows(
  ch: ClickHouse,
  table: TableRef,
  partitionId: string,
  dialect: ServerDialect,
): Promise<number> {
  const [{ rows }] = await ch.rows(selectActivePartitionRows(table, partitionId, dialect));
  return Number(rows);
}

/**
 * How every kind's validation ends: a failed check fails the partition (`ValidationMismatchError`, named by
 * `label`, the partition by default); otherwise the checks with the shadow's rows (read unless the checks counted
 * them) and then the live partition's, for the shrink guard.
 */
export async function validated(
  ch: ClickHouse,
  task: PartitionTask,
  outcome: { rowsRead: number; checks: ValidationCheck[]; shadowRows?: number },
  label: string = task.partition.id,
): Promise<Omit<ValidateResult, 'durationMs'>> {
  if (outcome.checks.some((c) => !c.ok)) throw new ValidationMismatchError(label, outcome.checks);
  const dialect = dialectOf(task.server);
  return {
    rowsRead: outcome.rowsRead,
    checks: outcome.checks,
    shadowRows: outcome.shadowRows ?? (await partitionRows(ch, task.shadow, task.partition.id, dialect)),
    liveRows: await partitionRows(ch, task.target, task.partition.id, dialect),
  };
}

export async function tableExists(ch: ClickHouse, table: TableRef): Promise<boolean> {
  const [{ present }] = await ch.rows(selectTableExists(table));
  return Number(present) === 1;
}

/**
 * Where a step follows its tracked statements: on Cloud every replica's processes and query log (the statement may
 * run on another replica than the one a read reaches), elsewhere the server's own.
 */
function followedTables(task: PartitionTask): NodeTableExpression {
  return dialectOf(task.server).systemTable;
}

/**
 * Runs one step of a partition: heartbeating which step and for how long, and timing it, its queries labelled
 * with the step (`<activity>/<step>` in their `log_comment`). A completed step's
 * duration goes into the `ch_backfill_step_duration_seconds` histogram (label `step`: `insert` is the build), and
 * while it runs it is counted in the `ch_backfill_steps_running` gauge.
 *
 * Every read of the step takes the activity's cancellation (see query-scope.ts), and a step that fails once the
 * activity is cancelled (`pause --now`, the partition cancelled) reports a cancellation, not the aborted read's
 * error, so the workflow redoes the build instead of failing the partition. A statement the step runs with a query
 * id is followed, on a server, through the task's server's system tables.
 */
export async function runStep<T extends object>(
  task: PartitionTask,
  step: string,
  work: (signal: AbortSignal) => Promise<T>,
): Promise<T & StepTiming> {
  const started = Date.now();
  const details = () => ({ partition: task.partition.id, step, elapsedMs: Date.now() - started });
  const outer = currentQueryLabel()?.step;
  const label = { step: outer !== undefined && outer !== step ? `${outer}/${step}` : step };
  const systemTable = followedTables(task);
  const done = countRunningStep(step, qualifiedName(task.target));
  const result = await withQueryLabel(label, () =>
    withHeartbeat(details, async (signal) => {
      try {
        return await withQueryScope({ signal, systemTable }, () => work(signal));
      } catch (err) {
        if (!signal.aborted || err instanceof CancelledFailure) throw err;
        throw new CancelledFailure(`the ${step} step was cancelled`, undefined, err as Error);
      }
    }),
  ).finally(done);
  const durationMs = Date.now() - started;
  Context.current()
    .metricMeter.createHistogram(MetricName.stepDuration, 'float', 's', 'Duration of completed partition steps')
    .record(durationMs / 1000, { step, target: qualifiedName(task.target) });
  return { ...result, durationMs };
}

/**
 * The query id of this build attempt, and how to stop every earlier build query of the same partition workflow
 * run: on a server they share a prefix, `KILL QUERY … SYNC` (on every replica where there are several) waits until
 * they are gone, and the processes of every replica are then read back: a query of that prefix still running
 * fails the step retryably (`EarlierBuildRunningError`, naming it and its host), so a redo never starts beside its
 * predecessor. chDB has no KILL QUERY and runs one query at a time, so there it does nothing (the next statement
 * waits for an abandoned query).
 */
export function buildQueries(
  ch: ClickHouse,
  task: PartitionTask,
): { queryId: string; killEarlier: () => Promise<void> } {
  const { workflowExecution, activityId, attempt } = Context.current().info;
  const run = workflowExecution ? `${workflowExecution.workflowId}/${workflowExecution.runId}` : task.shadow.name;
  const queryIdPrefix = `${run}/build/`;
  return {
    queryId: `${queryIdPrefix}${activityId}-${attempt}`,
    // Through the control pool: a KILL never waits behind the builds that fill the main one.
    killEarlier: async () => {
      if (ch.embedded) return;
      const dialect = dialectOf(task.server);
      await ch.control.exec(killQueriesWithIdPrefix(queryIdPrefix, dialect));
      const left = await ch.control.rows(selectQueriesRunningWithIdPrefix(queryIdPrefix, dialect.systemTable));
      if (left.length > 0) {
        const which = left.map((q) => `${q.query_id} on ${q.host}`).join(', ');
        throw new EarlierBuildRunningError(`an earlier build query still runs after KILL QUERY … SYNC: ${which}`);
      }
    },
  };
}
