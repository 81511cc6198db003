export { backfillWorkflow } from './backfill-workflow';
export { backfillPartitionWorkflow } from './partition-workflow';
export { seedDemoWorkflow } from './seed-demo-workflow';
export { dailyIncrementalWorkflow } from './daily-incremental-workflow';
export { validateWorkflow } from './validate-workflow';
export { doctorWorkflow } from './doctor-workflow';
