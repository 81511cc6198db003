import type { Context } from '@temporalio/activity';
import type { ActivityInterceptors } from '@temporalio/worker';
import { withQueryLabel } from '../clickhouse/query-label';

/** The partition an activity works on, from its input (`{ partition: { id } }` or `{ partition: '<id>' }`). */
function partitionOf(input: unknown): string | undefined {
  const partition = (input as { partition?: unknown } | undefined)?.partition;
  if (typeof partition === 'string') return partition;
  const id = (partition as { id?: unknown } | undefined)?.id;
  return typeof id === 'string' ? id : undefined;
}

/**
 * Adds to every log line of an activity (ours and the SDK's, e.g. `Activity failed`) the partition it works on, when
 * its input names one, and the step (the activity type), next to the `workflowId` the SDK already adds. Drops the
 * task token: an opaque capability to complete the activity, of no use to a reader. Labels the ClickHouse queries
 * the activity sends with its workflow id and step (their `log_comment`).
 */
export function activityLogContext(ctx: Context): ActivityInterceptors {
  let partition: string | undefined;
  return {
    inbound: {
      execute(input, next) {
        partition = partitionOf(input.args[0]);
        const workflowId = ctx.info.workflowExecution?.workflowId;
        return withQueryLabel({ workflowId, step: ctx.info.activityType }, () => next(input));
      },
    },
    outbound: {
      getLogAttributes(attributes, next) {
        const { taskToken: _, ...rest } = next(attributes);
        return { ...rest, step: ctx.info.activityType, ...(partition !== undefined ? { partition } : {}) };
      },
    },
  };
}
