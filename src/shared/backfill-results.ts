import type { AggregateJob } from './job-spec';
import type { PartitionBounds } from './partitions';

/** A table with its database resolved, as the plan fixes it for every later step. */
export interface TableRef {
  database: string;
  name: string;
}

/** One partition to rebuild, as planned from the source. */
export interface PartitionPlan extends PartitionBounds {
  sourceRows: number;
  /** Rows of the largest key in this partition (approximate from above: it only sizes the salt). */
  maxRowsPerKey: number;
  /** Number of inner groups per key: 1 means a plain single-level aggregation. */
  salt: number;
}

export interface BackfillPlan {
  source: TableRef;
  target: TableRef;
  targetCreated: boolean;
  partitions: PartitionPlan[];
}

/** What every partition step needs: the job, the resolved tables and the partition. */
export interface PartitionTask {
  job: AggregateJob;
  source: TableRef;
  target: TableRef;
  shadow: TableRef;
  partition: PartitionPlan;
}

export interface ValidationCheck {
  name: string;
  expected: string;
  actual: string;
  ok: boolean;
}

export type PartitionStep = 'prepare' | 'insert' | 'validate' | 'swap' | 'cleanup';

export interface PartitionResult {
  partition: string;
  salt: number;
  rowsRead: number;
  rowsWritten: number;
  checks: ValidationCheck[];
  stepMs: Partial<Record<PartitionStep, number>>;
}

export interface BackfillSummary {
  workflowId: string;
  target: string;
  from: string;
  to: string;
  partitions: PartitionResult[];
  failed: { partition: string; error: string }[];
  rowsRead: number;
  rowsWritten: number;
  elapsedMs: number;
}
