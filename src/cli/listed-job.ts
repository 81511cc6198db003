/**
 * The workflows `ch-backfill list` shows, one per job an operator starts, by the kind it names them with. The
 * workflows these start themselves (partition writers, backup retention timers) and the CLI's helpers (dry runs,
 * doctor, the examples' set-up) are not jobs and are not listed.
 */
export const LISTED_JOB_KINDS = {
  backfillWorkflow: 'backfill',
  dailyIncrementalWorkflow: 'daily',
  viewBackfillWorkflow: 'view',
  viewSnapshotWorkflow: 'snapshot',
  importWorkflow: 'import',
  rollbackWorkflow: 'rollback',
  validateWorkflow: 'validate',
} as const satisfies Record<string, string>;

export type ListedWorkflowType = keyof typeof LISTED_JOB_KINDS;

/** What `list` shows of one job besides its id, status and start: its kind, its target and a detail or none. */
export interface ListedJob {
  kind: string;
  target: string;
  detail: string;
}

/** The part of a job's start input `list` reads; any field may be missing (a start from the Temporal CLI). */
interface StartInput {
  job?: { target?: { table?: unknown } };
  target?: unknown;
  date?: unknown;
  backfill?: unknown;
  reference?: { table?: unknown; path?: unknown };
}

const text = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

/**
 * Kind, target and detail of a listed job, from its workflow type and start input (the first argument it was
 * started with). `resolved` is the target the job recorded itself (`BackfillTarget`, `database.table`, set by a
 * backfill once planned), which wins over the input's name; `partitions` those of `BackfillPartitions`.
 */
export function describeListedJob(
  type: ListedWorkflowType,
  input: unknown,
  resolved: string | undefined,
  partitions: readonly string[],
): ListedJob {
  const start = (typeof input === 'object' && input !== null ? input : {}) as StartInput;
  const target = resolved ?? text(start.target) ?? text(start.job?.target?.table) ?? '?';
  let detail = '';
  if (type === 'backfillWorkflow' && partitions.length > 0) {
    detail = `${partitions.length} partitions ${partitions[0]}…${partitions[partitions.length - 1]}`;
  } else if (type === 'dailyIncrementalWorkflow') {
    detail = text(start.date) ? `day ${text(start.date)}` : 'scheduled day';
  } else if (type === 'rollbackWorkflow' && text(start.backfill)) {
    detail = `of ${text(start.backfill)}`;
  } else if (type === 'validateWorkflow') {
    const reference = text(start.reference?.table) ?? text(start.reference?.path);
    if (reference) detail = `against ${reference}`;
  }
  return { kind: LISTED_JOB_KINDS[type], target, detail };
}

/**
 * Whether a job's target is the one `--target` asks for: the same name, or the same table where one of the two
 * names no database (`events_daily` and `analytics.events_daily`).
 */
export function sameTarget(asked: string, target: string): boolean {
  if (asked === target) return true;
  const table = (name: string) => name.slice(name.indexOf('.') + 1);
  return (!asked.includes('.') || !target.includes('.')) && table(asked) === table(target);
}
