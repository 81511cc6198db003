export { backfillWorkflow } from './backfill-workflow';
export { partitionWorkflow } from './partition-workflow';
export { rollbackWorkflow } from './rollback-workflow';
export { backupRetentionWorkflow } from './backup-retention-workflow';
export { seedDemoWorkflow } from './seed-demo-workflow';
export { dailyIncrementalWorkflow } from './daily-incremental-workflow';
export { validateWorkflow } from './validate-workflow';
export { doctorWorkflow } from './doctor-workflow';
