import type { ClickHouse } from '../clickhouse/clickhouse';
import type { PartitionPlan, TableRef, ValidationCheck } from '../shared/backfill-results';
import { nextDay } from '../shared/daily-input';
import { DAILY_DEFAULTS, describeReadiness } from '../shared/daily-job';
import type { AggregateJob } from '../shared/job-spec';
import { partitionOf } from '../shared/partitions';
import { insertAggregation } from '../sql/aggregation';
import { additiveMetrics, aggregationShape, rowCountMetric } from '../sql/aggregation-shape';
import {
  attachPartitionFrom,
  deleteDay,
  dropPartition,
  selectDaySplitTotals,
  selectHasParts,
  selectReadiness,
} from '../sql/daily-ops';
import { createTableLike, dropTableIfExists, replacePartition } from '../sql/partition-ops';
import { metricTotalAlias, selectPartitionTotals, selectSourceTotals } from '../sql/totals';
import type { ActivityDeps } from './deps';
import { SwapVerificationError, ValidationMismatchError } from './errors';
import { withHeartbeat } from './heartbeat';
import { planBackfill } from './plan-backfill';
import { tableResolver } from './table-resolver';
import { validationCheck } from './validation-check';
import { shadowTableFor } from '../shared/shadow-table';

/** One day to load into its month (or day) partition of the target, as planned. */
export interface DailyTask {
  job: AggregateJob;
  day: string;
  source: TableRef;
  target: TableRef;
  /** `<target>_v2_<yyyymmdd>`. */
  shadow: TableRef;
  /** The target partition holding the day; its `start`/`end` are the partition's, not the day's. */
  partition: PartitionPlan;
}

export interface DayInput {
  job: AggregateJob;
  day: string;
}

export interface ReadinessResult {
  ready: boolean;
  check: string;
  seen: string;
}

export interface DailyValidation {
  sourceRows: number;
  rowsWritten: number;
  checks: ValidationCheck[];
}

type Totals = Record<string, string | number>;

const dayRange = (day: string) => ({ start: day, end: nextDay(day) });

async function hasParts(ch: ClickHouse, table: TableRef, partitionId: string): Promise<boolean> {
  const [row] = await ch.rows<{ has_parts: number | boolean }>(selectHasParts(table, partitionId));
  return Number(row.has_parts) === 1;
}

/**
 * Activities of the daily incremental run. The shadow starts as a hard-linked copy of the day's partition of
 * the live target, loses that day's rows, and receives the day freshly aggregated; one atomic
 * `REPLACE PARTITION` then swaps it in, so other days of the month keep their exact rows.
 */
export function dailySteps(deps: ActivityDeps) {
  const { clickhouse: ch, log } = deps;
  const plan = planBackfill(deps);
  return {
    /**
     * Checks whether the day's raw data is complete, by the job's structured readiness check.
     * Durability: read-only.
     */
    async checkDailyReadiness({ job, day }: DayInput): Promise<ReadinessResult> {
      const readiness = (job.daily ?? DAILY_DEFAULTS).readiness;
      const source = (await tableResolver(ch))(job.source.table);
      const [row] = await ch.rows<{ ready: number | boolean; seen: string }>(
        selectReadiness(readiness, source, job.source.timeColumn, nextDay(day)),
      );
      return { ready: Number(row.ready) === 1, check: describeReadiness(readiness), seen: row.seen };
    },

    /**
     * Checks the job against its tables (creating the target when missing) and sizes the salt from the day's
     * partition of the source. Durability: as `planBackfill`, safe to retry.
     */
    async planDay({ job, day }: DayInput): Promise<DailyTask> {
      const planned = await plan({ job, from: day, to: day });
      const bounds = partitionOf(day, job.partitionBy);
      const partition = planned.partitions.find((p) => p.id === bounds.id) ?? {
        ...bounds,
        sourceRows: 0,
        maxRowsPerKey: 0,
        salt: 1,
      };
      const shadow = shadowTableFor(planned.target, day.replace(/-/g, ''));
      return { job, day, source: planned.source, target: planned.target, shadow, partition };
    },

    /**
     * Builds the shadow from scratch: created like the target, the target's partition attached by hard links,
     * the day's rows deleted, the day's (salted) aggregation inserted.
     * Durability: starts with `DROP TABLE IF EXISTS`, so a retry never sees a partial shadow.
     */
    async buildDayShadow(task: DailyTask): Promise<{ rowsWritten: number }> {
      const shape = aggregationShape(task.job);
      return withHeartbeat(
        () => ({ day: task.day, step: 'build-shadow' }),
        async (signal) => {
          await ch.exec(dropTableIfExists(task.shadow), { signal });
          await ch.exec(createTableLike(task.shadow, task.target), { signal });
          await ch.exec(attachPartitionFrom(task.shadow, task.target, task.partition.id), { signal });
          await ch.exec(deleteDay(task.shadow, shape.dateColumn, task.day), { signal });
          await ch.exec(insertAggregation(shape, task.source, task.shadow, dayRange(task.day), task.partition.salt), {
            signal,
            settings: task.job.insertSettings,
          });
          const [split] = await ch.rows<Totals>(selectDaySplitTotals(shape, task.shadow, task.partition.id, task.day));
          return { rowsWritten: Number(split.day_rows) };
        },
      );
    },

    /**
     * Compares the shadow with the source for the day (row-count metric = source rows; in full mode also
     * distinct keys and additive metric totals) and with the live target for the other days of the partition
     * (identical totals: they were not touched). Durability: read-only; a mismatch fails non-retryably.
     */
    async validateDayShadow(task: DailyTask): Promise<DailyValidation> {
      const shape = aggregationShape(task.job);
      const { mode, relativeTolerance } = task.job.validation;
      const full = mode === 'full';
      const [source] = await ch.rows<Totals>(selectSourceTotals(shape, task.source, dayRange(task.day), full));
      const [shadow] = await ch.rows<Totals>(selectDaySplitTotals(shape, task.shadow, task.partition.id, task.day));
      const [live] = await ch.rows<Totals>(selectDaySplitTotals(shape, task.target, task.partition.id, task.day));
      const checks: ValidationCheck[] = [];
      const add = (name: string, expected: string | number, actual: string | number, tolerance: number) =>
        checks.push(validationCheck(name, expected, actual, tolerance));
      const counter = rowCountMetric(shape);
      additiveMetrics(shape).forEach((m, i) => {
        const alias = metricTotalAlias(i);
        if (m.name === counter)
          add(`${task.day}: sum(${m.name}) = source rows`, source.rows, shadow[`day_${alias}`], 0);
        else if (full) add(`${task.day}: sum(${m.name})`, source[alias], shadow[`day_${alias}`], relativeTolerance);
        // Same rows, but float sums depend on the order of parts: exact for integers, within tolerance for floats.
        add(
          `other days: sum(${m.name}) unchanged`,
          live[`other_${alias}`],
          shadow[`other_${alias}`],
          relativeTolerance,
        );
      });
      if (full) add(`${task.day}: rows = distinct keys`, source.groups, shadow.day_rows, 0);
      add('other days: rows unchanged', live.other_rows, shadow.other_rows, 0);
      if (checks.some((c) => !c.ok))
        throw new ValidationMismatchError(`${task.partition.id} (day ${task.day})`, checks);
      return { sourceRows: Number(source.rows), rowsWritten: Number(shadow.day_rows), checks };
    },

    /**
     * Swaps the shadow's partition into the target atomically (`REPLACE PARTITION`), or, when the shadow holds no
     * part in it (a month with no rows at all), drops the target's partition; then checks the target equals the
     * shadow. Durability: the shadow stays intact, so repeating the swap gives the same target.
     */
    async swapDay(task: DailyTask): Promise<void> {
      const shape = aggregationShape(task.job);
      const id = task.partition.id;
      if (await hasParts(ch, task.shadow, id)) await ch.exec(replacePartition(task.target, task.shadow, id));
      else if (await hasParts(ch, task.target, id)) await ch.exec(dropPartition(task.target, id));
      const [shadow] = await ch.rows<Totals>(selectPartitionTotals(shape, task.shadow, id));
      const [target] = await ch.rows<Totals>(selectPartitionTotals(shape, task.target, id));
      if (JSON.stringify(shadow) !== JSON.stringify(target)) {
        throw new SwapVerificationError(
          `partition ${id} of the target holds ${JSON.stringify(target)} after the swap of ${task.day}, ` +
            `the shadow ${JSON.stringify(shadow)}`,
        );
      }
      log.info('day swapped in', { day: task.day, partition: id, rows: target.rows });
    },

    /** Drops the day's shadow table. Durability: `DROP TABLE IF EXISTS`, a no-op when repeated. */
    async dropDayShadow(task: DailyTask): Promise<void> {
      await ch.exec(dropTableIfExists(task.shadow));
    },
  };
}
