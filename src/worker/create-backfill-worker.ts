import { log as activityLog } from '@temporalio/activity';
import {
  NativeConnection,
  Worker,
  type WorkerDeploymentOptions,
  type WorkerOptions,
  type WorkflowBundleOption,
} from '@temporalio/worker';
import { createActivities, type ActivityDeps } from '../activities';
import type { ClickHouse } from '../clickhouse/clickhouse';
import { activityLogContext } from './activity-log-context';

export interface BackfillWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  clickhouse: ClickHouse;
  onStep?: ActivityDeps['onStep'];
  /**
   * Where activities log. By default the activity context logger, so lines reach the Runtime's logger (see
   * `installWorkerRuntime`) with the workflow id, partition and step attached.
   */
  log?: ActivityDeps['log'];
  /**
   * Pre-bundled workflow code (the build's dist/workflow-bundle.js, or a bundle tests make once); otherwise the
   * workflows are bundled at start, which takes seconds.
   */
  workflowBundle?: WorkflowBundleOption;
  /** Workflows and activities served beside the product's (the demo's: examples/demo/demo-worker.ts). */
  extension?: WorkerExtension;
  /** How many activities the worker runs at once (the SDK's default otherwise). */
  slots?: Pick<WorkerOptions, 'maxConcurrentActivityTaskExecutions'>;
  /** The Worker Deployment version the worker polls as (src/worker/worker-deployment.ts); none: unversioned. */
  deployment?: WorkerDeploymentOptions;
}

/**
 * What a worker serves beyond the product: a workflows entry file that re-exports src/workflows with its own
 * workflows (bundled at start when no `workflowBundle` is given, and then the bundle must be of this file), and
 * activities built from the same dependencies, merged after the product's.
 */
export interface WorkerExtension {
  workflowsPath: string;
  activities: (deps: ActivityDeps) => object;
}

/**
 * A worker serving the backfill workflows and activities on one task queue. In embedded mode it must be the
 * only process that opens the chDB data directory, so every ClickHouse access happens through it.
 */
export async function createBackfillWorker(options: BackfillWorkerOptions): Promise<Worker> {
  const deps: ActivityDeps = {
    clickhouse: options.clickhouse,
    log: options.log ?? activityLog,
    onStep: options.onStep,
  };
  return Worker.create({
    connection: options.connection,
    namespace: options.namespace,
    taskQueue: options.taskQueue,
    interceptors: { activity: [activityLogContext] },
    ...(options.workflowBundle
      ? { workflowBundle: options.workflowBundle }
      : { workflowsPath: options.extension?.workflowsPath ?? require.resolve('../workflows') }),
    activities: { ...createActivities(deps), ...options.extension?.activities(deps) },
    ...options.slots,
    ...(options.deployment ? { workerDeploymentOptions: options.deployment } : {}),
  });
}
