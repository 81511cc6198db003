import type { Priority } from '@temporalio/common';

/**
 * Temporal task-queue priority levels (1 is the most urgent; the server's default range is 1–5 and an unset key
 * means 3). A workflow started with a priority passes it on to its activities and child workflows (its partition
 * workflows and their activities), unless they set their own, and keeps it when it continues as new.
 */
export const TaskPriority = {
  /** What an operator waits for at the terminal: dry runs and other helper workflows, rollbacks, doctor, validate. */
  operator: 1,
  /** Fresh data: daily runs (scheduled or run by hand) and every partition's swap into the live table. */
  fresh: 2,
  /** History fills: backfills, view backfills, snapshots, imports, view restates. */
  historyFill: 4,
} as const;

/** The longest fairness key the server takes (bytes; target names are ASCII identifiers). */
const MAX_FAIRNESS_KEY_LENGTH = 64;

/**
 * Fairness key of a job writing `target` (the table as the job file names it): within one priority level the server
 * hands out tasks of different keys in turn, so a big job on one target cannot starve jobs on other targets.
 */
export function targetFairnessKey(target: string): string {
  return target.slice(0, MAX_FAIRNESS_KEY_LENGTH);
}

/** Priority of a history fill writing `target`. */
export function historyFillPriority(target: string): Priority {
  return { priorityKey: TaskPriority.historyFill, fairnessKey: targetFairnessKey(target) };
}

/** Priority of a daily run writing `target`. */
export function freshDataPriority(target: string): Priority {
  return { priorityKey: TaskPriority.fresh, fairnessKey: targetFairnessKey(target) };
}

/**
 * Priority of a partition's swap activity: fresh data's level, or its workflow's own when that is more urgent (a
 * rollback's). Its fairness key is its job's.
 */
export function swapPriority(workflow: Priority | undefined): Priority {
  return { priorityKey: Math.min(workflow?.priorityKey ?? TaskPriority.fresh, TaskPriority.fresh) };
}

/** Priority of work an operator waits for. */
export const OPERATOR_PRIORITY: Priority = { priorityKey: TaskPriority.operator };
