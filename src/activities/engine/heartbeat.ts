import { Context } from '@temporalio/activity';

/** How often a running step tells Temporal it is alive; the workflow's heartbeat timeout is a few times this. */
const HEARTBEAT_INTERVAL_MS = 3_000;
/** A shorter heartbeat timeout (a job's `safety.heartbeatTimeoutSeconds`) still gets this many heartbeats within it. */
const HEARTBEATS_PER_TIMEOUT = 4;

/**
 * Runs `work` while heartbeating `details()` every few seconds from its start, so a dead worker is noticed within
 * the heartbeat timeout and the step is retried elsewhere. `work` receives the activity's cancellation signal.
 */
export async function withHeartbeat<T>(
  details: () => Record<string, unknown>,
  work: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const ctx = Context.current();
  // Local activities cannot heartbeat (their workflow task is kept alive instead); they still get cancellation.
  if (ctx.info.isLocal) return work(ctx.cancellationSignal);
  // No heartbeat at the start: the server counts the heartbeat timeout from the activity's start anyway, and the
  // first heartbeat is sent at once (later ones are throttled), a server write for every short step.
  const timeoutMs = ctx.info.heartbeatTimeoutMs || Infinity;
  const every = Math.min(HEARTBEAT_INTERVAL_MS, timeoutMs / HEARTBEATS_PER_TIMEOUT);
  const timer = setInterval(() => ctx.heartbeat(details()), every);
  try {
    return await work(ctx.cancellationSignal);
  } finally {
    clearInterval(timer);
  }
}
