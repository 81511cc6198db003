import type { Client, WorkflowHandle } from '@temporalio/client';
import type { PlannedStatement } from '../../shared/backfill-description';
import type { JobSpec } from '../../shared/job-spec';
import type { PartitionTask } from '../../shared/partition-task';
import type { BackfillOptions } from '../backfill-options';

/** A plan: the text a person reads, and the same as data for `--json`. */
export interface PlanOutput {
  text: string;
  json: unknown;
}

/** A job just started: its handle, what to tell the operator now, and its result as the text `start` prints. */
export interface StartedJob {
  handle: WorkflowHandle;
  /** Lines printed right after `started <id>` (e.g. what the operator must do next). */
  notes: string[];
  /** Waits for the result and renders it: the summary table and the kind's closing line. */
  summary(): Promise<string>;
}

/** The partition task a job of kind `J` gives each of its partition writers. */
export type KindTask<J extends JobSpec> = Extract<PartitionTask, { job: J }>;

/**
 * Everything the client side knows of one kind of job: how `start`, `plan` and the refusals of options name and
 * run it. One entry per kind in `src/cli/kinds/`, looked up by `jobKindFor` (src/cli/kinds/registry.ts).
 */
export interface JobKind<J extends JobSpec> {
  /** How messages name a job of this kind: `an aggregate job`, `a view job with cutoff: snapshot`. */
  label: string;
  /** The workflow type that runs the job. */
  workflowType: string;
  /** The workflow id `start` uses without `--workflow-id`. */
  defaultWorkflowId(job: J, options: BackfillOptions): string;
  /** Refuses the options of `start` and `plan` that do not apply to this kind, in the same words for both. */
  checkOptions(file: string, job: J, options: BackfillOptions): void;
  /** Starts the job's workflow with every default of its input applied here, where the input enters. */
  start(client: Client, job: J, options: BackfillOptions, workflowId: string): Promise<StartedJob>;
  /** What a run would do, described on the worker, creating nothing (`plan`, `start --dry-run`). */
  describe(client: Client, file: string, job: J, options: BackfillOptions): Promise<PlanOutput>;
  /**
   * The statements one partition writer of such a job sends, rendered from the task the writer recorded (its
   * shadow, salt, backup, server profile) by the functions the dry run renders them with, which the steps run;
   * for `report`. Throws when the task holds too little to render them.
   */
  writerStatements(task: KindTask<J>): PlannedStatement[];
}

/** A kind's entry bound to one job file: what `start` and `plan` call. */
export interface BoundJobKind {
  label: string;
  workflowType: string;
  defaultWorkflowId(options: BackfillOptions): string;
  checkOptions(options: BackfillOptions): void;
  start(client: Client, options: BackfillOptions, workflowId: string): Promise<StartedJob>;
  describe(client: Client, options: BackfillOptions): Promise<PlanOutput>;
  /** The statements of one of the job's partition writers, from the task it recorded; refuses another kind's task. */
  writerStatements(task: PartitionTask): PlannedStatement[];
}

/** Binds a kind's entry to one job and its file. */
export function boundKind<J extends JobSpec>(kind: JobKind<J>, file: string, job: J): BoundJobKind {
  return {
    label: kind.label,
    workflowType: kind.workflowType,
    defaultWorkflowId: (options) => kind.defaultWorkflowId(job, options),
    checkOptions: (options) => kind.checkOptions(file, job, options),
    start: (client, options, workflowId) => kind.start(client, job, options, workflowId),
    describe: (client, options) => kind.describe(client, file, job, options),
    writerStatements(task) {
      if (task.job.kind !== job.kind) {
        throw new Error(`a ${task.job.kind} partition task is not one of ${kind.label}'s writers (${file})`);
      }
      // The job's kind is the task's: each kind's writers take the task of that kind's job.
      return kind.writerStatements(task as KindTask<J>);
    },
  };
}
