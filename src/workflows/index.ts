export { backfillWorkflow } from './backfill-workflow';
export { backfillPartitionWorkflow } from './partition-workflow';
