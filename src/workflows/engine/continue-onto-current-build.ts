import { makeContinueAsNewFunc, type Workflow } from '@temporalio/workflow';

/**
 * Continues the running job as new, the way every partitioned job does when Temporal suggests it. With worker
 * versioning on (src/worker/worker-deployment.ts), the job runs pinned to the build that started it, and its next
 * run starts on the deployment's current build (`AUTO_UPGRADE` for its first task; the new build's default, pinned,
 * from then on): a long job moves to a new worker build at its next continue-as-new and at no other point. Without
 * versioning this is a plain continue-as-new.
 *
 * Durability contract: the same as `continueAsNew` (the run ends and the next one starts with `args`, atomically).
 */
export function continueOntoCurrentBuild<W extends Workflow>(...args: Parameters<W>): Promise<never> {
  return makeContinueAsNewFunc<W>({ initialVersioningBehavior: 'AUTO_UPGRADE' })(...args);
}
