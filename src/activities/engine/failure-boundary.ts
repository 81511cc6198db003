import { Context } from '@temporalio/activity';
import { MetricName } from '../../shared/backfill-metrics';
import { FailureType } from '../../shared/failure-types';
import { toActivityFailure } from './errors';

type AsyncFn = (...args: never[]) => Promise<unknown>;

/**
 * Makes every activity decide retryable vs non-retryable at the point its error leaves it, and counts the
 * validation failures (`ch_backfill_validation_failures`, per activity type) as they leave.
 */
export function withFailureBoundary<T extends Record<string, AsyncFn>>(activities: T): T {
  return Object.fromEntries(
    Object.entries(activities).map(([name, fn]) => [
      name,
      async (...args: never[]) => {
        try {
          return await fn(...args);
        } catch (err) {
          const failure = toActivityFailure(err, Context.current().info.attempt);
          const type = (failure as { type?: unknown }).type;
          if (type === FailureType.ValidationMismatch || type === FailureType.ReferenceMismatch) {
            Context.current()
              .metricMeter.createCounter(MetricName.validationFailures, 'failures', 'Validations that found a mismatch')
              .add(1);
          }
          throw failure;
        }
      },
    ]),
  ) as T;
}
