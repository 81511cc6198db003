import type { PlannedStatement } from '../../shared/backfill-description';
import type { JobSpec } from '../../shared/job-spec';
import type { PartitionTask } from '../../shared/partition-task';
import { errorLine } from '../error-line';
import { jobKindFor } from '../kinds/registry';

/** How the report renders its partitions' statements, and what the page says of them. */
export interface WriterStatements {
  /** One partition writer's statements from the task it recorded; absent when the job's cannot be rendered. */
  render?: (task: PartitionTask) => PlannedStatement[];
  /** Where the statements come from, or why there are none: said on the page above them. */
  source: string;
}

const RENDERED =
  "no statement text is recorded in Temporal's history or the ledger: each partition's statements below are " +
  'rendered from the task its writer recorded (the shadow, salt, backup table and server profile the run used), by ' +
  'the functions its steps run and `ch-backfill plan` prints with; a note under a statement says where it shows ' +
  "something other than the run's values (the ledger record's params). A replacing swap is shown as the plan " +
  'expected it (REPLACE, or DROP PARTITION for a partition without source rows). Not listed: the statements of the ' +
  'job itself (the target, view, snapshot or ledger created), reads of system tables (row counts, table info) and, ' +
  "as in `plan`, a view, import or restate's validation reads: `ch-backfill plan --job <file>` renders the job's.";

/**
 * The statements of a job's partitions. Neither Temporal's history nor the ledger records statement text (the
 * activities build it), but every partition writer's history records its task: the job's kind (its registry
 * entry, `writerStatements`) renders each writer's statements from it with the functions its steps run. Jobs run
 * by another workflow than their kind's (a daily run, a rollback) are not rendered.
 */
export function writerStatements(workflowId: string, workflowType: string, job: unknown): WriterStatements {
  if (!job) return { source: `${workflowType} recorded no job in its input: its statements are not rendered` };
  try {
    const kind = jobKindFor(`the job of ${workflowId}`, job as JobSpec);
    if (kind.workflowType !== workflowType) {
      return {
        source:
          `statements are not rendered for a ${workflowType}: only for the workflow ${kind.label} runs ` +
          `(${kind.workflowType}), whose writers' tasks the renderer knows`,
      };
    }
    return { render: (task) => kind.writerStatements(task), source: RENDERED };
  } catch (err) {
    return { source: `statements could not be rendered: ${errorLine(err)}` };
  }
}
