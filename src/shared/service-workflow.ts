/**
 * The one long-lived workflow per task queue that answers the CLI's read-only questions (`plan`, `start --dry-run`,
 * `history`, `doctor`, the report's ledger read) as Updates, so they leave no workflow per question in the Web UI.
 */
export const SERVICE_WORKFLOW_TYPE = 'backfillServiceWorkflow';

/** The Update each question is sent as. */
export const ASK_UPDATE = 'ask';

/** The read-only workflows whose body the service runs for a question, by their own workflow type. */
export const SERVICE_QUESTIONS = [
  'describeBackfillWorkflow',
  'describeImportWorkflow',
  'describeViewBackfillWorkflow',
  'describeViewRestateWorkflow',
  'doctorWorkflow',
  'ledgerHistoryWorkflow',
] as const;

export type ServiceQuestion = (typeof SERVICE_QUESTIONS)[number];

/** An `ask` Update's argument: the workflow type whose body answers it and that workflow's arguments. */
export interface ServiceAsk {
  question: ServiceQuestion;
  args: unknown[];
}

/** The service workflow's id on `taskQueue`: one per task queue, since a worker serves one. */
export function serviceWorkflowId(taskQueue: string): string {
  return `ch-backfill-service-${taskQueue}`;
}
