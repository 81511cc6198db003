import type { MetricMeter } from '@temporalio/common';

/**
 * The names of our own Prometheus metrics, next to the SDK's (`temporal_*`). Kept in one place so the README, the
 * worker's histogram buckets and the emitters agree.
 */
export const MetricName = {
  rowsRead: 'ch_backfill_rows_read',
  rowsWritten: 'ch_backfill_rows_written',
  partitionsSwapped: 'ch_backfill_partitions_swapped',
  partitionsEmptied: 'ch_backfill_partitions_emptied',
  partitionsFailed: 'ch_backfill_partitions_failed',
  validationFailures: 'ch_backfill_validation_failures',
  loadPausedSeconds: 'ch_backfill_load_paused_seconds',
  stepDuration: 'ch_backfill_step_duration_seconds',
  stepsRunning: 'ch_backfill_steps_running',
} as const;

/** What each of our metrics is, which decides the names Prometheus exposes it under. */
export const METRIC_TYPES: Record<keyof typeof MetricName, 'counter' | 'histogram' | 'gauge'> = {
  rowsRead: 'counter',
  rowsWritten: 'counter',
  partitionsSwapped: 'counter',
  partitionsEmptied: 'counter',
  partitionsFailed: 'counter',
  validationFailures: 'counter',
  loadPausedSeconds: 'counter',
  stepDuration: 'histogram',
  stepsRunning: 'gauge',
};

/**
 * Every series name the worker's Prometheus endpoint exposes of our metrics (src/worker/worker-runtime.ts): a
 * counter with `_total`, a histogram as `_bucket`, `_sum` and `_count`, a gauge as it is named. What dashboards
 * and alerts may query.
 */
export function prometheusSeriesNames(): string[] {
  return (Object.keys(MetricName) as (keyof typeof MetricName)[]).flatMap((key) => {
    const name = MetricName[key];
    const type = METRIC_TYPES[key];
    if (type === 'counter') return [`${name}_total`];
    if (type === 'histogram') return [`${name}_bucket`, `${name}_sum`, `${name}_count`];
    return [name];
  });
}

/** Buckets of the step histogram, in seconds: from a quick DDL step to an hour-long INSERT. */
export const STEP_DURATION_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600];

/**
 * The counters a partition writer moves when it completes or fails, labelled with the target (`database.table`).
 * Created from the workflow's meter, which emits nothing while a history is replayed, so each completion counts
 * once.
 */
export function partitionMetrics(meter: MetricMeter, target: string) {
  const tagged = meter.withTags({ target });
  return {
    rowsRead: tagged.createCounter(MetricName.rowsRead, 'rows', 'Source rows the validated partitions were built from'),
    rowsWritten: tagged.createCounter(MetricName.rowsWritten, 'rows', 'Rows written into the swapped partitions'),
    swapped: tagged.createCounter(MetricName.partitionsSwapped, 'partitions', 'Partitions swapped into the target'),
    emptied: tagged.createCounter(
      MetricName.partitionsEmptied,
      'partitions',
      'Swapped partitions the source had no rows for (dropped from the target); also counted as swapped',
    ),
    failed: tagged.createCounter(
      MetricName.partitionsFailed,
      'partitions',
      'Partitions that failed before or in their swap; label reason: the failure type',
    ),
  };
}

/**
 * Seconds a backfill of `target` spent paused for cluster load, per load signal over its threshold (label `reason`,
 * e.g. `parts per partition`), cool-down included.
 */
export function loadPausedSeconds(meter: MetricMeter, target: string): SecondsCounter {
  const counter = meter
    .withTags({ target })
    .createCounter(MetricName.loadPausedSeconds, 's', 'Seconds paused for cluster load; label reason: the signal');
  return new SecondsCounter(counter, 'reason');
}

/**
 * Adds milliseconds to a whole-seconds counter per label value, carrying the remainder, because Temporal's
 * counters take integers and a load re-check interval may be a fraction of a second.
 */
export class SecondsCounter {
  private readonly carriedMs = new Map<string, number>();

  constructor(
    private readonly counter: ReturnType<MetricMeter['createCounter']>,
    private readonly label: string,
  ) {}

  add(ms: number, value: string): void {
    const total = (this.carriedMs.get(value) ?? 0) + ms;
    const whole = Math.floor(total / 1000);
    this.carriedMs.set(value, total - whole * 1000);
    if (whole > 0) this.counter.add(whole, { [this.label]: value });
  }
}
