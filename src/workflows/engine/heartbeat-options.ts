import type { ActivityOptions } from '@temporalio/workflow';
import type { Safety } from '../../shared/job-spec';

/**
 * The heartbeat timeout a job sets for its heartbeating steps (`safety.heartbeatTimeoutSeconds`), as call-site
 * activity options. A job resolved before that option existed has none: nothing is overridden, and the proxy's
 * own timeout (20 s) applies as it did.
 */
export function heartbeatOptions(safety: Safety): Pick<ActivityOptions, 'heartbeatTimeout'> {
  const { heartbeatTimeoutSeconds } = safety as Partial<Safety>;
  return heartbeatTimeoutSeconds === undefined ? {} : { heartbeatTimeout: heartbeatTimeoutSeconds * 1000 };
}
