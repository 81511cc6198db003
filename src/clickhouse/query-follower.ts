import { ClickHouseError, parseError, type ClickHouseClient, type ClickHouseSettings } from '@clickhouse/client';
import { setTimeout as sleep } from 'node:timers/promises';
import { flushLogs } from '../sql/engine/query-memory';
import {
  localSystemTable,
  selectQueryOutcome,
  selectQueryRunning,
  type NodeTableExpression,
  type QueryLogRecord,
} from '../sql/engine/query-tracking';
import { isClickHouseError } from './clickhouse-error';
import type { Statement } from './statement';

/** How a statement tracked by query id is waited for and followed (worker configuration, see connect.ts). */
export interface TrackingOptions {
  /**
   * How long the HTTP response of a tracked statement is waited for before its socket is given up (the query goes
   * on: a server does not cancel a write whose client went away) and the statement is followed by id only.
   */
  waitMs: number;
  /** Pause between two readings of the server's record. */
  pollMs: number;
  /**
   * How long a statement whose connection is gone may be neither running nor in the query log before it counts as
   * lost. Longer than the log's flush interval (7.5 s by default), for a server that refuses SYSTEM FLUSH LOGS.
   */
  lostAfterMs: number;
}

export const DEFAULT_TRACKING: TrackingOptions = { waitMs: 5 * 60_000, pollMs: 5_000, lostAfterMs: 60_000 };

/**
 * The query log's clock may lag the worker's: the lower bound of the log lookup is taken this much before the
 * statement was sent (it still reads only the last hour of the log, not all of it).
 */
const CLOCK_SKEW_MARGIN_MS = 60 * 60_000;

/**
 * Settings a tracked statement sets for itself: the query log must keep its end (whatever the user's profile says
 * of logging), and the HTTP status must be the outcome (with progress headers the status 200 goes out first and a
 * later exception is only in the body, which `command` does not read).
 */
const TRACKED_SETTINGS: ClickHouseSettings = {
  log_queries: 1,
  log_queries_min_type: 'QUERY_START',
  log_queries_min_query_duration_ms: 0,
  send_progress_in_http_headers: 0,
};

/** The part of the control pool's door (`ch.control`) the follower reads through. */
export interface ControlDoor {
  rows<T>(statement: Statement<T>): Promise<T[]>;
  exec(statement: Statement): Promise<void>;
}

/** What one reading of the server says of a query. */
export interface QueryObservation {
  atMs: number;
  /** In `system.processes` now. */
  running: boolean;
  /** Its final row in `system.query_log`, once there. */
  record?: QueryLogRecord;
  /** When our HTTP request for it closed; undefined while it is open (queued, in flight, waiting for the answer). */
  requestClosedAtMs?: number;
}

/**
 * Where a followed query stands. `unseen`: neither running nor logged since `sinceMs` (not arrived yet, or ended
 * with its log row not flushed yet); `lost`: unseen for longer than `lostAfterMs` with no request open any more (the
 * server restarted, or never received it).
 */
export type FollowState =
  | { phase: 'unseen'; sinceMs: number }
  | { phase: 'running' }
  | { phase: 'finished'; record: QueryLogRecord }
  | { phase: 'failed'; record: QueryLogRecord }
  | { phase: 'lost'; unseenMs: number };

/** The state after `observation`: the server's record decides; absence becomes loss only once the request is gone. */
export function nextFollowState(state: FollowState, observation: QueryObservation, lostAfterMs: number): FollowState {
  const { record, running, requestClosedAtMs, atMs } = observation;
  if (record) return record.type === 'QueryFinish' ? { phase: 'finished', record } : { phase: 'failed', record };
  if (running) return { phase: 'running' };
  // While our request is open the query may still be on its way: absence counts only from when it closed.
  if (requestClosedAtMs === undefined || state.phase !== 'unseen') return { phase: 'unseen', sinceMs: atMs };
  const unseenMs = atMs - Math.max(state.sinceMs, requestClosedAtMs);
  return unseenMs >= lostAfterMs ? { phase: 'lost', unseenMs } : state;
}

/** A logged exception as the error the HTTP answer would have carried: a ClickHouseError with the server's code. */
export function loggedError(record: QueryLogRecord): ClickHouseError {
  const parsed = parseError(record.exception);
  if (parsed instanceof ClickHouseError) return parsed;
  return new ClickHouseError({ message: record.exception, code: String(record.exception_code), type: '' });
}

/** A tracked statement the server no longer runs and never logged the end of: retried (after a KILL) like a crash. */
export class QueryLostError extends Error {
  constructor(queryId: string, unseenMs: number) {
    super(
      `query ${queryId} is neither running nor in system.query_log ${Math.round(unseenMs / 1000)} s after its ` +
        `connection closed (server restarted, or the statement never arrived): the step is retried`,
    );
    this.name = 'QueryLostError';
  }
}

export interface FollowContext {
  /** The small pool the follower reads through (never queued behind the builds). */
  control: ControlDoor;
  queryId: string;
  /** When the statement was sent (worker clock). */
  sentAtMs: number;
  options: TrackingOptions;
  systemTable?: NodeTableExpression;
  /** When the statement's HTTP request closed; undefined while it is open. */
  requestClosedAt: () => number | undefined;
  /** Stops following (the HTTP answer came, or the step was cancelled): resolves undefined. */
  stop: AbortSignal;
}

/**
 * Follows a query by id until the server's record says how it ended: `finished` resolves with its log row,
 * `failed` rejects with the logged exception as a ClickHouseError, `lost` rejects with {@link QueryLostError}.
 * SYSTEM FLUSH LOGS is sent only when the query is neither running nor logged, and no more once the server refused
 * it (no grant); then the follower waits for the log's own flush.
 */
export async function followQuery(context: FollowContext): Promise<QueryLogRecord | undefined> {
  const { control, queryId, options, stop, systemTable = localSystemTable } = context;
  const since = (context.sentAtMs - CLOCK_SKEW_MARGIN_MS) / 1000;
  let state: FollowState = { phase: 'unseen', sinceMs: Date.now() };
  let mayFlush = true;
  let failingSinceMs: number | undefined;
  const readRecord = async () => (await control.rows(selectQueryOutcome(queryId, since, systemTable)))[0];
  for (;;) {
    try {
      await sleep(options.pollMs, undefined, { signal: stop });
    } catch {
      return undefined;
    }
    const requestClosedAtMs = context.requestClosedAt();
    let running: boolean;
    let record: QueryLogRecord | undefined;
    try {
      running = Number((await control.rows(selectQueryRunning(queryId, systemTable)))[0].running) > 0;
      record = running ? undefined : await readRecord();
      failingSinceMs = undefined;
    } catch (err) {
      // A reading the network lost is tried again at the next poll, for as long as a query may go unseen.
      if (isClickHouseError(err)) throw err;
      failingSinceMs ??= Date.now();
      if (Date.now() - failingSinceMs >= options.lostAfterMs) throw err;
      continue;
    }
    if (!record && !running && mayFlush && requestClosedAtMs !== undefined) {
      try {
        await control.exec(flushLogs());
        record = await readRecord();
      } catch (err) {
        // Refused (no SYSTEM FLUSH LOGS grant): the log's own flush will do. Lost on the way: tried next poll.
        if (isClickHouseError(err)) mayFlush = false;
      }
    }
    state = nextFollowState(state, { atMs: Date.now(), running, record, requestClosedAtMs }, options.lostAfterMs);
    if (state.phase === 'finished') return state.record;
    if (state.phase === 'failed') throw loggedError(state.record);
    if (state.phase === 'lost') throw new QueryLostError(queryId, state.unseenMs);
  }
}

export interface TrackedRun {
  settings: ClickHouseSettings;
  queryId: string;
  signal?: AbortSignal;
  systemTable?: NodeTableExpression;
}

/**
 * Runs a long statement over HTTP so that no proxy or load balancer between the worker and the server decides its
 * outcome. The statement is sent with `client.command` under its query id and its HTTP answer is waited for at most
 * `waitMs`; meanwhile, every `pollMs`, the follower ({@link followQuery}) reads the server's own record through the
 * control pool: `system.processes` (still running?), then `system.query_log` (its `QueryFinish` or exception row).
 *
 * - The HTTP answer, when it comes, is the outcome: success, or the server's error as it sent it (no progress
 *   headers are asked for, so a status 200 is only sent at the end).
 * - When the socket fails instead (an idle timeout of a load balancer cut it, a half-open socket reached the wait
 *   bound, the server reset it), nothing is retried or killed: the server goes on running the write, and the
 *   follower decides from its record. A logged exception becomes the same ClickHouseError (code and type) as the
 *   direct answer; a query neither running nor logged for `lostAfterMs` after its socket closed is lost
 *   ({@link QueryLostError}, retried by the activity, whose retry kills every earlier build query by prefix).
 * - The record also ends the wait when the socket is half-open: the query finished, the answer never arrives.
 * - Cancellation (`signal`) aborts the request and the follower at once and rejects; the caller kills the query.
 *
 * Why not progress headers: with them a failed INSERT can answer 200 and put its exception in a body `command`
 * never reads, and the headers overflow Node's header limit after about two hours. Why not fire-and-forget from the
 * start: a short statement (most partitions) is answered directly, with no read of the log at all.
 */
export async function execTracked(
  client: ClickHouseClient,
  control: ControlDoor,
  statement: Statement,
  run: TrackedRun,
  options: TrackingOptions,
): Promise<void> {
  const request = new AbortController();
  const stopFollowing = new AbortController();
  const cancel = () => {
    request.abort(run.signal?.reason);
    stopFollowing.abort();
  };
  run.signal?.throwIfAborted();
  run.signal?.addEventListener('abort', cancel);
  const waitBound = setTimeout(() => request.abort(new Error(`no answer within ${options.waitMs} ms`)), options.waitMs);
  let requestClosedAt: number | undefined;
  const sentAtMs = Date.now();
  // Resolves true when the server answered success, false when the socket failed (then the follower decides).
  const answered = client
    .command({
      query: statement.query,
      query_params: statement.params,
      clickhouse_settings: { ...run.settings, ...TRACKED_SETTINGS },
      abort_signal: request.signal,
      query_id: run.queryId,
    })
    .then(
      () => true,
      (err: unknown) => {
        if (isClickHouseError(err) || run.signal?.aborted) throw err;
        return false;
      },
    )
    .finally(() => {
      requestClosedAt = Date.now();
      clearTimeout(waitBound);
    });
  const followed = followQuery({
    control,
    queryId: run.queryId,
    sentAtMs,
    options,
    systemTable: run.systemTable,
    requestClosedAt: () => requestClosedAt,
    stop: stopFollowing.signal,
  });
  // Whichever settles second is never awaited: its outcome no longer matters.
  answered.catch(() => undefined);
  followed.catch(() => undefined);
  try {
    const first = await Promise.race([
      answered.then((ok) => (ok ? 'answered' : 'dropped')),
      followed.then((record) => (record ? 'logged' : 'stopped')),
    ]);
    if (first === 'dropped') await followed;
    run.signal?.throwIfAborted();
  } finally {
    run.signal?.removeEventListener('abort', cancel);
    clearTimeout(waitBound);
    stopFollowing.abort();
    request.abort();
  }
}
