import type { Worker } from '@temporalio/worker';
import {
  createBackfillWorker,
  type BackfillWorkerOptions,
  type WorkerExtension,
} from '../../src/worker/create-backfill-worker';
import { demoActivities } from './activities';

/** The demo's workflows (examples/demo/workflows/index.ts, which re-exports the product's) and its activities. */
export const demoWorkerExtension: WorkerExtension = {
  workflowsPath: require.resolve('./workflows'),
  activities: demoActivities,
};

/**
 * The demo's worker: the product's worker serving the demo's workflows and activities as well (its generators and
 * the PyPI examples' checks). A `workflowBundle`, if given, must be a bundle of examples/demo/workflows.
 */
export function createDemoWorker(options: Omit<BackfillWorkerOptions, 'extension'>): Promise<Worker> {
  return createBackfillWorker({ ...options, extension: demoWorkerExtension });
}
