import { Context } from '@temporalio/activity';
import { MetricName } from '../../shared/backfill-metrics';

/** Steps running in this process, per gauge series (the activity's own tags, the step and the target). */
const running = new Map<string, number>();

/**
 * Counts a step as running in the `ch_backfill_steps_running` gauge (labels `step` and `target`, with the
 * activity's tags) until the returned function is called: summed over the workers, the partitions in each step
 * now. Counted per series, so each series is set only to its own count.
 */
export function countRunningStep(step: string, target: string): () => void {
  const context = Context.current();
  const { activityType, workflowType } = context.info;
  const key = [activityType, workflowType, step, target].join('\0');
  const gauge = context.metricMeter.createGauge(
    MetricName.stepsRunning,
    'int',
    'steps',
    'Partition steps running now; label step (insert is the build)',
  );
  const move = (by: number): void => {
    const count = (running.get(key) ?? 0) + by;
    if (count === 0) running.delete(key);
    else running.set(key, count);
    gauge.set(count, { step, target });
  };
  move(1);
  return () => move(-1);
}
