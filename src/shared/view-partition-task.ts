import type { ServerProfile } from './server-profile';
import type { PartitionPlan } from './backfill-results';
import type { ViewJob } from './job-spec';
import { shadowTableFor } from './writer-tables';
import type { TableRef } from './table-ref';
import type { ViewPartitionTask } from './partition-task';

/**
 * A view job's task for one partition's writer: the view's SELECT over `tables.source` (its rows before `cutoff`, or
 * all of them without one) into the writer's shadow of `tables.target`, appended to the target; its statements are
 * built for `tables.server`, the server the plan found.
 */
export function viewPartitionTask(
  job: ViewJob,
  tables: { source: TableRef; target: TableRef; server?: ServerProfile; columns?: string[] },
  partition: PartitionPlan,
  tag: string,
  cutoff: number | undefined,
): ViewPartitionTask {
  return {
    job,
    source: tables.source,
    target: tables.target,
    shadow: shadowTableFor(tables.target, partition.id, tag),
    partition,
    build: { kind: 'view-fill', cutoff, ...(tables.columns ? { columns: tables.columns } : {}) },
    swap: 'append',
    server: tables.server,
  };
}
