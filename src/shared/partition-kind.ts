import type {
  AggregatePartitionTask,
  ImportPartitionTask,
  PartitionTask,
  ViewPartitionTask,
  ViewRestatePartitionTask,
} from './partition-task';

/** One function per kind of partition task: what a caller does with each. */
export interface PartitionKindCases<R> {
  /** Replaced from a shadow (`REPLACE PARTITION`): aggregate jobs, daily runs and rollbacks. */
  aggregate: (task: AggregatePartitionTask) => R;
  /** Appended from a shadow (`MOVE PARTITION`): view jobs, with a cutoff or from a snapshot. */
  view: (task: ViewPartitionTask) => R;
  /** Every duplicate of a batch moved into its live table: import jobs. */
  import: (task: ImportPartitionTask) => R;
  /** Replaced from a shadow built with an existing view's stored query: view restates. */
  viewRestate: (task: ViewRestatePartitionTask) => R;
}

const isRestate = (task: AggregatePartitionTask | ViewRestatePartitionTask): task is ViewRestatePartitionTask =>
  task.job.kind === 'view-restate';

/**
 * The one place that tells a partition task's kind, for the steps (`stepsFor`) and the partition workflow alike.
 * The kind is read from how the task's swap lands (`swap`), which every recorded task carries; a task without one
 * is an aggregate's (tasks from before `swap` existed); of the tasks that replace, a view restate's job says
 * `view-restate`. A new kind adds a case here and the compiler names every
 * caller that must handle it.
 */
export function byPartitionKind<R>(task: PartitionTask, cases: PartitionKindCases<R>): R {
  switch (task.swap) {
    case undefined:
    case 'replace':
      // Both replace a partition (and roll back through the same restore): the job tells them apart.
      return isRestate(task) ? cases.viewRestate(task) : cases.aggregate(task);
    case 'append':
      return cases.view(task);
    case 'move-all':
      return cases.import(task);
    default:
      return unknownKind(task);
  }
}

function unknownKind(task: never): never {
  throw new Error(`partition task of an unknown kind: swap ${JSON.stringify((task as PartitionTask).swap)}`);
}
