import type { PartitionResult } from '../../shared/backfill-results';
import type { PlannedStatement } from '../../shared/backfill-description';
import type { LedgerEntry } from '../../shared/ledger';
import type { ValidationReport } from '../../shared/validation-report';

/** A span of one partition's timeline: a step's activity, from its scheduling to its close (open while running). */
export interface StepSpan {
  step: 'build' | 'backup' | 'swap';
  /** The activity type as the history names it (`buildValidatedShadow`, `swapPartition`, …). */
  activity: string;
  start: number;
  end?: number;
}

/** How a partition's writer ended, as its own history says; `waiting` when it never started (lock held). */
export type PartitionReportState = 'waiting' | 'running' | 'swapped' | 'failed' | 'cancelled';

/** One partition of a job as the report shows it: when it waited, built and swapped, its figures and checks. */
export interface PartitionReport {
  partition: string;
  /** The partition writer's workflow id (its lock) and the run this job started. */
  writerId: string;
  writerRunId?: string;
  state: PartitionReportState;
  /** When the job first asked for the writer (epoch ms). */
  queuedAt: number;
  /** How many times the writer could not start because another job held the partition. */
  lockWaits: number;
  startedAt?: number;
  closedAt?: number;
  spans: StepSpan[];
  /** The writer's result (its rows, checks and step times), once it completed. */
  result?: PartitionResult;
  error?: string;
  /** The ledger row this job's swap of the partition recorded, when the ledger was read. */
  ledger?: LedgerEntry;
}

/** A `validate` run (Spark or other reference) of the same target over a range overlapping the job's. */
export interface ReferenceRun {
  workflowId: string;
  status: string;
  startedAt: number;
  report?: ValidationReport;
  /** Why there is no report (still running, or failed without one). */
  note?: string;
}

/** Where the report's statements come from: there is no record of them in Temporal's history or the ledger. */
export interface ReportStatements {
  /** Statements rendered by the job's dry run (as `plan` prints them) from the input the job recorded. */
  statements: PlannedStatement[];
  /** How they were obtained, or why there are none, said on the page. */
  source: string;
}

/** Everything `report` shows of one job, gathered read-only from Temporal and the ledger. */
export interface JobReport {
  workflowId: string;
  workflowType: string;
  status: string;
  startedAt: number;
  closedAt?: number;
  /** The runs of the job (more than one after continue-as-new), oldest first. */
  runIds: string[];
  target?: string;
  source?: string;
  from?: string;
  to?: string;
  /** The job as its first run recorded it in its input. */
  job?: unknown;
  partitions: PartitionReport[];
  /** The job's failure, when it failed. */
  failure?: string;
  /** Why the ledger rows are missing, when they are. */
  ledgerNote?: string;
  references: ReferenceRun[];
  statements: ReportStatements;
  /** When the report was gathered (epoch ms). */
  generatedAt: number;
}
