import type { WorkerDeploymentOptions } from '@temporalio/worker';
import { refusedValue } from '../shared/refused-value';

/**
 * Worker versioning from the environment: with `TEMPORAL_DEPLOYMENT_NAME` and `TEMPORAL_WORKER_BUILD_ID` (the
 * variables the Temporal Worker Controller sets) the worker polls as that version of that Worker Deployment, and
 * every workflow it starts is pinned to it: a job and its partition workflows run on the build that started them,
 * and a job moves to the deployment's current build at its next continue-as-new (see
 * src/workflows/engine/continue-onto-current-build.ts). Neither set: no versioning, as before.
 *
 * @throws Error naming the variable that is set when the other is missing.
 */
export function workerDeploymentFromEnv(env: NodeJS.ProcessEnv = process.env): WorkerDeploymentOptions | undefined {
  const deploymentName = env.TEMPORAL_DEPLOYMENT_NAME || undefined;
  const buildId = env.TEMPORAL_WORKER_BUILD_ID || undefined;
  if (deploymentName === undefined && buildId === undefined) return undefined;
  if (deploymentName === undefined || buildId === undefined) {
    const [set, value, missing] =
      deploymentName !== undefined
        ? ['TEMPORAL_DEPLOYMENT_NAME', deploymentName, 'TEMPORAL_WORKER_BUILD_ID']
        : ['TEMPORAL_WORKER_BUILD_ID', buildId, 'TEMPORAL_DEPLOYMENT_NAME'];
    throw new Error(
      `${set} is set to ${refusedValue(value)} but ${missing} is not: worker versioning needs both (or neither)`,
    );
  }
  return versionedWorker(deploymentName, buildId);
}

/** A worker of version `buildId` of the Worker Deployment `deploymentName`, its workflows pinned to it. */
export function versionedWorker(deploymentName: string, buildId: string): WorkerDeploymentOptions {
  return { useWorkerVersioning: true, version: { deploymentName, buildId }, defaultVersioningBehavior: 'PINNED' };
}
