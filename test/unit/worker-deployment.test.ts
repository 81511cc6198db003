import { workerDeploymentFromEnv } from '../../src/worker/worker-deployment';

describe('worker versioning from the environment', () => {
  it('is off when neither variable is set', () => {
    expect(workerDeploymentFromEnv({})).toBeUndefined();
    expect(workerDeploymentFromEnv({ TEMPORAL_DEPLOYMENT_NAME: '', TEMPORAL_WORKER_BUILD_ID: '' })).toBeUndefined();
  });

  it('pins the workflows to the given version of the deployment', () => {
    expect(
      workerDeploymentFromEnv({ TEMPORAL_DEPLOYMENT_NAME: 'ch-backfill', TEMPORAL_WORKER_BUILD_ID: '2026-12-05.1' }),
    ).toEqual({
      useWorkerVersioning: true,
      version: { deploymentName: 'ch-backfill', buildId: '2026-12-05.1' },
      defaultVersioningBehavior: 'PINNED',
    });
  });

  it('refuses one variable without the other, echoing the one that is set', () => {
    expect(() => workerDeploymentFromEnv({ TEMPORAL_DEPLOYMENT_NAME: 'ch-backfill' })).toThrow(
      'TEMPORAL_DEPLOYMENT_NAME is set to ch-backfill but TEMPORAL_WORKER_BUILD_ID is not',
    );
    expect(() => workerDeploymentFromEnv({ TEMPORAL_WORKER_BUILD_ID: 'b 1' })).toThrow(
      'TEMPORAL_WORKER_BUILD_ID is set to "b 1" but TEMPORAL_DEPLOYMENT_NAME is not',
    );
  });
});
