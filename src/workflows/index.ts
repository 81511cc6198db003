export { backfillWorkflow } from './backfill-workflow';
export { partitionWorkflow } from './partition-workflow';
export { rollbackWorkflow } from './rollback-workflow';
export { backupRetentionWorkflow } from './backup-retention-workflow';
export { seedDemoWorkflow } from './seed-demo-workflow';
export { dailyIncrementalWorkflow } from './daily-incremental-workflow';
export { validateWorkflow } from './validate-workflow';
export { doctorWorkflow } from './doctor-workflow';
export { viewBackfillWorkflow } from './view-backfill-workflow';
export { viewSnapshotWorkflow } from './view-snapshot-workflow';
export {
  checkPypiExampleWorkflow,
  checkPypiImportExampleWorkflow,
  preparePypiExampleWorkflow,
  preparePypiImportExampleWorkflow,
  pypiIngestionWorkflow,
} from './pypi-example-workflows';
export { describeViewBackfillWorkflow } from './describe-view-workflow';
export { importWorkflow } from './import-workflow';
export { describeImportWorkflow } from './describe-import-workflow';
export { describeBackfillWorkflow, testBackfillDayWorkflow } from './describe-backfill-workflow';
export { ledgerHistoryWorkflow } from './ledger-history-workflow';
