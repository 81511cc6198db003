import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ClickHouseError } from '@clickhouse/client';
import { MockActivityEnvironment } from '@temporalio/testing';
import { CancelledFailure } from '@temporalio/common';
import type { ClickHouse } from '../../src/clickhouse/clickhouse';
import { connectClickHouse } from '../../src/clickhouse/connect';
import {
  loggedError,
  nextFollowState,
  QueryLostError,
  type FollowState,
  type QueryObservation,
} from '../../src/clickhouse/query-follower';
import { runStep } from '../../src/activities/engine/step-runner';
import type { QueryLogRecord } from '../../src/sql/engine/query-tracking';
import type { PartitionTask } from '../../src/shared/partition-task';

/** Rows as a server's `system.query_log` gives them for the follower's statement (JSONEachRow). */
const FINISHED: QueryLogRecord = { type: 'QueryFinish', exception_code: 0, exception: '', peak: '1048576' };
const FAILED: QueryLogRecord = {
  type: 'ExceptionWhileProcessing',
  exception_code: 241,
  exception:
    'Code: 241. DB::Exception: (total) memory limit exceeded: would use 9.31 GiB (attempt to allocate chunk of ' +
    '4194304 bytes), maximum: 9.31 GiB. OvercommitTracker decision: Query was selected to stop by ' +
    'OvercommitTracker.: While executing AggregatingTransform. (MEMORY_LIMIT_EXCEEDED) (version 25.8.1.5101 (official build))',
  peak: '9995326464',
};
const BEFORE_START: QueryLogRecord = {
  type: 'ExceptionBeforeStart',
  exception_code: 60,
  exception:
    "Code: 60. DB::Exception: Unknown table expression identifier 'db.nope' in scope SELECT. (UNKNOWN_TABLE) (version 26.3.2.1)",
  peak: '0',
};

describe('the follower state machine', () => {
  const observe = (atMs: number, o: Partial<QueryObservation>): QueryObservation => ({
    atMs,
    running: false,
    requestClosedAtMs: 0,
    ...o,
  });
  const run = (observations: QueryObservation[], lostAfterMs = 1_000): FollowState[] => {
    let state: FollowState = { phase: 'unseen', sinceMs: 0 };
    return observations.map((o) => (state = nextFollowState(state, o, lostAfterMs)));
  };

  it('follows a query from running to its QueryFinish row', () => {
    const states = run([
      observe(100, { requestClosedAtMs: undefined }),
      observe(200, { running: true }),
      observe(300, { running: false }),
      observe(400, { record: FINISHED }),
    ]);
    expect(states.map((s) => s.phase)).toEqual(['unseen', 'running', 'unseen', 'finished']);
  });

  it('ends failed on an exception row, before or while processing', () => {
    expect(run([observe(100, { running: true }), observe(200, { record: FAILED })])[1]).toEqual({
      phase: 'failed',
      record: FAILED,
    });
    expect(run([observe(100, { record: BEFORE_START })])[0].phase).toBe('failed');
  });

  it('counts a query lost only once its request is closed and it stayed unseen for the grace period', () => {
    const states = run([
      observe(500, { requestClosedAtMs: undefined }),
      observe(5_000, { requestClosedAtMs: undefined }),
      observe(5_500, { requestClosedAtMs: 5_200 }),
      observe(6_100, { requestClosedAtMs: 5_200 }),
      observe(6_300, { requestClosedAtMs: 5_200 }),
    ]);
    expect(states.map((s) => s.phase)).toEqual(['unseen', 'unseen', 'unseen', 'unseen', 'lost']);
  });

  it('starts the grace period again when a query seen running disappears (its log row not flushed yet)', () => {
    const states = run([observe(100, { running: true }), observe(5_000, {}), observe(5_900, {})]);
    expect(states.map((s) => s.phase)).toEqual(['running', 'unseen', 'unseen']);
  });

  it('turns a logged exception into the ClickHouseError the HTTP answer would have carried', () => {
    const memory = loggedError(FAILED);
    expect(memory).toBeInstanceOf(ClickHouseError);
    expect([String(memory.code), memory.type]).toEqual(['241', 'MEMORY_LIMIT_EXCEEDED']);
    const unknown = loggedError(BEFORE_START);
    expect([String(unknown.code), unknown.type]).toEqual(['60', 'UNKNOWN_TABLE']);
    expect(String(loggedError({ ...FAILED, exception: 'no code here' }).code)).toBe('241');
  });
});

interface Request {
  sql: string;
  params: URLSearchParams;
}

/**
 * A local HTTP server answering like ClickHouse. `INSERT`s are handled by `onInsert` (answer, delay, drop the
 * socket); the follower's reads of `system.processes` and `system.query_log` are answered from `server`, which the
 * test changes as the "server" runs the INSERT; `SELECT sleep` never answers (a long read).
 */
async function fakeServer(onInsert: (req: Request, res: ServerResponse) => void) {
  const requests: Request[] = [];
  const closedReads: string[] = [];
  const state = { running: false, record: undefined as QueryLogRecord | undefined };
  const server: Server = createServer((req: IncomingMessage, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      const params = new URL(req.url ?? '/', 'http://localhost').searchParams;
      const sql = body || (params.get('query') ?? '');
      const request = { sql, params };
      requests.push(request);
      const rows = (lines: object[]) => {
        res.writeHead(200, { 'Content-Type': 'text/plain', 'X-ClickHouse-Format': 'JSONEachRow' });
        res.end(lines.map((l) => JSON.stringify(l) + '\n').join(''));
      };
      if (sql.startsWith('INSERT')) return onInsert(request, res);
      if (sql.includes('system.processes')) return rows([{ running: state.running ? 1 : 0 }]);
      if (sql.includes('system.query_log')) return rows(state.record ? [state.record] : []);
      if (sql.includes('sleep')) {
        res.on('close', () => closedReads.push(sql));
        return;
      }
      if (sql.includes('SELECT 1')) return rows([{ one: 1 }]);
      res.writeHead(200);
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    closedReads,
    state,
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(resolve));
    },
  };
}

const TRACKING_ENV = {
  CLICKHOUSE_FOLLOW_POLL_SECONDS: '1',
  CLICKHOUSE_QUERY_LOST_SECONDS: '2',
  CLICKHOUSE_TRACKED_WAIT_SECONDS: '30',
};
const insert = { query: 'INSERT INTO db.shadow SELECT * FROM db.source', params: {} };

describe('a long statement tracked by query id over HTTP', () => {
  let fake: Awaited<ReturnType<typeof fakeServer>>;
  let ch: ClickHouse;
  const open = async (onInsert: (req: Request, res: ServerResponse) => void) => {
    fake = await fakeServer(onInsert);
    ch = connectClickHouse({ CLICKHOUSE_URL: fake.url, ...TRACKING_ENV });
  };
  afterEach(async () => {
    await ch.close();
    await fake.close();
  });
  /** The load balancer's idle timeout: the socket is cut while the server goes on running the INSERT. */
  const dropAfter = (ms: number) => (_req: Request, res: ServerResponse) => {
    fake.state.running = true;
    setTimeout(() => res.socket?.destroy(), ms);
  };

  it('survives a dropped socket: followed by id to its QueryFinish, never retried nor killed', async () => {
    await open(dropAfter(100));
    setTimeout(() => Object.assign(fake.state, { running: false, record: FINISHED }), 2_500);
    const started = Date.now();
    await ch.exec(insert, { queryId: 'wf/run/build/1-1' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(2_500);
    const inserts = fake.requests.filter((r) => r.sql.startsWith('INSERT'));
    expect(inserts).toHaveLength(1);
    expect(inserts[0].params.get('query_id')).toBe('wf/run/build/1-1');
    expect(inserts[0].params.get('send_progress_in_http_headers')).toBe('0');
    expect(inserts[0].params.get('log_queries')).toBe('1');
    expect(fake.requests.some((r) => r.sql.startsWith('KILL'))).toBe(false);
    // The lookup is bounded by event_date and event_time, and asks for the statement's id.
    const lookup = fake.requests.find((r) => r.sql.includes('system.query_log'));
    expect(lookup?.sql).toMatch(/event_date >= .* AND event_time >= /);
    expect(lookup?.params.get('param_query_id')).toBe('wf/run/build/1-1');
  });

  it('reports an exception from the log as the same ClickHouseError as a direct answer', async () => {
    await open(dropAfter(100));
    setTimeout(() => Object.assign(fake.state, { running: false, record: FAILED }), 1_500);
    const err = await ch.exec(insert, { queryId: 'q-failed' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ClickHouseError);
    expect([String((err as ClickHouseError).code), (err as ClickHouseError).type]).toEqual([
      '241',
      'MEMORY_LIMIT_EXCEEDED',
    ]);
  });

  it('ends the wait on a half-open socket as soon as the log records the end', async () => {
    // The answer never comes (a half-open socket), well within the 30 s wait bound.
    await open(() => (fake.state.running = true));
    setTimeout(() => Object.assign(fake.state, { running: false, record: FINISHED }), 1_200);
    const started = Date.now();
    await ch.exec(insert, { queryId: 'q-half-open' });
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('gives up a query neither running nor logged once its socket is gone: QueryLostError', async () => {
    await open((_req, res) => setTimeout(() => res.socket?.destroy(), 100));
    await expect(ch.exec(insert, { queryId: 'q-lost' })).rejects.toBeInstanceOf(QueryLostError);
    // Not running and not logged: the follower asked the server to flush its logs before concluding.
    expect(fake.requests.some((r) => r.sql === 'SYSTEM FLUSH LOGS')).toBe(true);
  });

  it('takes a direct answer as it comes, without reading the log', async () => {
    await open((_req, res) => {
      res.writeHead(200);
      res.end();
    });
    await ch.exec(insert, { queryId: 'q-quick' });
    expect(fake.requests.map((r) => r.sql)).toEqual([insert.query]);
  });
});

describe('the control pool', () => {
  it('answers while slow INSERTs fill every socket of the main pool', async () => {
    const fake = await fakeServer((_req, res) =>
      setTimeout(() => {
        res.writeHead(200);
        res.end();
      }, 3_000),
    );
    // Main pool: 1 + 2 sockets, all taken by slow INSERTs.
    const ch = connectClickHouse({ CLICKHOUSE_URL: fake.url, BACKFILL_MAX_PARALLELISM: '1' });
    try {
      const inserts = [1, 2, 3].map(() => ch.exec(insert));
      await new Promise((resolve) => setTimeout(resolve, 200));
      const started = Date.now();
      const queued = ch.rows({ query: 'SELECT 1 AS one', params: {} }).then(() => Date.now() - started);
      await ch.control.rows({ query: 'SELECT 1 AS one', params: {} });
      const controlMs = Date.now() - started;
      await ch.control.exec({ query: "KILL QUERY WHERE query_id = 'x' SYNC", params: {} });
      expect(controlMs).toBeLessThan(1_000);
      // The same read through the main pool waited for a socket.
      expect(await queued).toBeGreaterThan(2_000);
      await Promise.all(inserts);
    } finally {
      await ch.close();
      await fake.close();
    }
  });
});

describe('a step cancelled while it reads (pause --now during a validation)', () => {
  it("aborts the step's reads with the activity's cancellation and reports a cancellation", async () => {
    const fake = await fakeServer(() => undefined);
    const ch = connectClickHouse({ CLICKHOUSE_URL: fake.url });
    try {
      const env = new MockActivityEnvironment({ heartbeatTimeoutMs: 1_000 });
      const task = { partition: { id: '202401' }, target: { database: 'db', name: 't' } } as PartitionTask;
      // A validation read that takes long on the server: no signal passed, as the kinds' validate steps read.
      const validating = env.run(() =>
        runStep(task, 'validate', async () => {
          await ch.rows({ query: 'SELECT sleep(3) AS totals', params: {} });
          return {};
        }),
      );
      await new Promise((resolve) => setTimeout(resolve, 300));
      env.cancel();
      const err = await validating.catch((e: unknown) => e);
      expect(err).toBeInstanceOf(CancelledFailure);
      // The server saw the read's connection close: with cancel_http_readonly_queries_on_client_close it stops.
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(fake.closedReads).toEqual([expect.stringContaining('SELECT sleep(3) AS totals')]);
    } finally {
      await ch.close();
      await fake.close();
    }
  });
});
