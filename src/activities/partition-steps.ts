import { Context } from '@temporalio/activity';
import type { ClickHouse } from '../clickhouse/clickhouse';
import type { PartitionTask, TableRef, ValidationCheck } from '../shared/backfill-results';
import { insertAggregation } from '../sql/aggregation';
import { additiveMetrics, aggregationShape, rowCountMetric, type AggregationShape } from '../sql/aggregation-shape';
import {
  createTableLike,
  dropTableIfExists,
  killQueriesWithIdPrefix,
  replacePartition,
  selectActivePartitionRows,
  truncateTable,
} from '../sql/partition-ops';
import { metricTotalAlias, selectPartitionTotals, selectSourceTotals } from '../sql/totals';
import type { ActivityDeps } from './deps';
import { SwapVerificationError, ValidationMismatchError } from './errors';
import { withHeartbeat } from './heartbeat';
import { validationCheck } from './validation-check';

export interface StepTiming {
  durationMs: number;
}

export interface InsertResult extends StepTiming {
  rowsWritten: number;
}

export interface ValidateResult extends StepTiming {
  rowsRead: number;
  checks: ValidationCheck[];
}

type Totals = Record<string, string | number>;

async function shadowTotals(ch: ClickHouse, shape: AggregationShape, task: PartitionTask): Promise<Totals> {
  const [totals] = await ch.rows<Totals>(selectPartitionTotals(shape, task.shadow, task.partition.id));
  return totals;
}

/** Runs one step of a partition: heartbeating which step and for how long, and timing it. */
async function runStep<T extends object>(
  task: PartitionTask,
  step: string,
  work: (signal: AbortSignal) => Promise<T>,
): Promise<T & StepTiming> {
  const started = Date.now();
  const details = () => ({ partition: task.partition.id, step, elapsedMs: Date.now() - started });
  const result = await withHeartbeat(details, work);
  return { ...result, durationMs: Date.now() - started };
}

/**
 * Partition steps over a shadow table (`<target>_v2_<partition>`, the guide's `_v2` convention). The live
 * target is touched only by `swapPartition`, with one atomic `REPLACE PARTITION`.
 */
export function partitionSteps({ clickhouse: ch, log, onStep }: ActivityDeps) {
  return {
    /**
     * Creates the shadow table afresh, shaped like the target.
     * Durability: drop-if-exists then create, so a retry after any crash starts from the same empty table.
     */
    async prepareShadow(task: PartitionTask): Promise<StepTiming> {
      return runStep(task, 'prepare', async () => {
        await ch.exec(dropTableIfExists(task.shadow));
        await ch.exec(createTableLike(task.shadow, task.target));
        return {};
      });
    },

    /**
     * Inserts the (salted) aggregation of the partition into the shadow, with the job's insert settings.
     * Durability: truncates the shadow first, so a retried insert never adds to a partial one; heartbeats
     * while the query runs. On a server, the INSERT runs under a query id derived from workflow, activity and
     * attempt: an earlier attempt's query still running there (its worker died, or it was cancelled) is killed
     * before the truncate, and a cancelled attempt kills its own. chDB runs queries one at a time, so there the
     * truncate simply waits for an abandoned insert to end.
     */
    async insertPartition(task: PartitionTask): Promise<InsertResult> {
      const shape = aggregationShape(task.job);
      const { workflowExecution, activityId, attempt } = Context.current().info;
      const queryIdPrefix = `${workflowExecution?.workflowId ?? task.shadow.name}-${activityId}-`;
      const queryId = `${queryIdPrefix}${attempt}`;
      const killEarlier = () => (ch.embedded ? Promise.resolve() : ch.exec(killQueriesWithIdPrefix(queryIdPrefix)));
      return runStep(task, 'insert', async (signal) => {
        await killEarlier();
        await ch.exec(truncateTable(task.shadow), { signal });
        await onStep?.('insert:started', task.partition.id);
        const insert = insertAggregation(shape, task.source, task.shadow, task.partition, task.partition.salt);
        try {
          await ch.exec(insert, { signal, settings: task.job.insertSettings, queryId });
        } catch (err) {
          if (signal.aborted) await killEarlier();
          throw err;
        }
        await onStep?.('insert:finished', task.partition.id);
        const [{ rows }] = await ch.rows<{ rows: string }>(selectActivePartitionRows(task.shadow, task.partition.id));
        return { rowsWritten: Number(rows) };
      });
    },

    /**
     * Compares the shadow with the source: the row-count metric sums to the source's rows; in full mode also
     * one output row per distinct key and date, and each additive metric's total within tolerance.
     * Durability: read-only. A mismatch fails the partition non-retryably; the live table is untouched.
     */
    async validateShadow(task: PartitionTask): Promise<ValidateResult> {
      const shape = aggregationShape(task.job);
      const { mode, relativeTolerance } = task.job.validation;
      return runStep(task, 'validate', async () => {
        const [source] = await ch.rows<Totals>(selectSourceTotals(shape, task.source, task.partition, mode === 'full'));
        const shadow = await shadowTotals(ch, shape, task);
        const checks: ValidationCheck[] = [];
        const counter = rowCountMetric(shape);
        additiveMetrics(shape).forEach((m, i) => {
          const alias = metricTotalAlias(i);
          if (m.name === counter)
            checks.push(validationCheck(`sum(${m.name}) = source rows`, source.rows, shadow[alias], 0));
          else if (mode === 'full')
            checks.push(validationCheck(`sum(${m.name})`, source[alias], shadow[alias], relativeTolerance));
        });
        if (mode === 'full')
          checks.push(validationCheck('rows = distinct keys and dates', source.groups, shadow.rows, 0));
        if (checks.some((c) => !c.ok)) throw new ValidationMismatchError(task.partition.id, checks);
        return { rowsRead: Number(source.rows), checks };
      });
    },

    /**
     * Swaps the shadow's partition into the target with one atomic `REPLACE PARTITION`, then checks from the
     * parts' metadata that the target partition holds exactly the shadow's rows (REPLACE hard-links the shadow's
     * parts, so equal row counts mean the same data; a difference means something else wrote there meanwhile,
     * and the retried swap replaces it again).
     * Durability: REPLACE leaves the shadow intact, so repeating it after a crash gives the same target.
     */
    async swapPartition(task: PartitionTask): Promise<StepTiming> {
      const rowsIn = async (table: TableRef) =>
        (await ch.rows<{ rows: string }>(selectActivePartitionRows(table, task.partition.id)))[0].rows;
      return runStep(task, 'swap', async () => {
        await ch.exec(replacePartition(task.target, task.shadow, task.partition.id));
        await onStep?.('swap:replaced', task.partition.id);
        const [shadow, target] = [await rowsIn(task.shadow), await rowsIn(task.target)];
        if (shadow !== target) {
          throw new SwapVerificationError(
            `partition ${task.partition.id} of the target holds ${target} rows after the swap, the shadow ${shadow}`,
          );
        }
        log.info('partition swapped in', { partition: task.partition.id, rows: shadow });
        return {};
      });
    },

    /** Drops the shadow table. Durability: `DROP TABLE IF EXISTS`, a no-op when repeated. */
    async dropShadow(task: PartitionTask): Promise<StepTiming> {
      return runStep(task, 'cleanup', async () => {
        await ch.exec(dropTableIfExists(task.shadow));
        await onStep?.('cleanup:dropped', task.partition.id);
        return {};
      });
    },
  };
}
