import type { ActivityDeps } from '../../../src/activities/engine/deps';
import { withFailureBoundary } from '../../../src/activities/engine/failure-boundary';
import { seedDemoEvents } from './demo-events';
import { pypiExample } from './pypi-example';

/**
 * The demo's activities (its data generators and checks), built from the worker's dependencies and behind the same
 * failure boundary as the product's; served beside them by the demo's worker (examples/demo/demo-worker.ts).
 */
export function demoActivities(deps: ActivityDeps) {
  return withFailureBoundary({
    seedDemoEvents: seedDemoEvents(deps),
    ...pypiExample(deps),
  });
}

export type DemoActivities = ReturnType<typeof demoActivities>;
