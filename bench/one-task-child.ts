import type { ClickHouse } from '../src/clickhouse/clickhouse';
import { connectClickHouse } from '../src/clickhouse/connect';
import type { PeakRss } from './messages';

/** What a one-task child sends back before it exits: its result or its error, and its own peak RSS. */
export type OneTaskReply<Result> = ({ ok: true; result: Result } | { ok: false; error: string }) & PeakRss;

/** The embedded engine as a task sees it: `ch` runs the queries; `probe()` opens (once) a second connection. */
export interface TaskEngine {
  ch: ClickHouse;
  /** A second connection on the same data directory, warmed up: it reads system.processes while `ch` runs a query. */
  probe(): Promise<ClickHouse>;
}

/**
 * Child entry of a bench task: opens the embedded engine on `CLICKHOUSE_DATA_DIR`, warms it up (the first query
 * starts the engine, which a running worker has long done), answers the one task it is sent with `answer`, replies
 * with the result and its own peak RSS, and exits, releasing the data directory.
 */
export function answerOneTask<Task, Result>(answer: (engine: TaskEngine, task: Task) => Promise<Result>): void {
  process.once('message', (task: Task) => {
    void (async () => {
      const opened: ClickHouse[] = [];
      const open = async (): Promise<ClickHouse> => {
        const connection = connectClickHouse();
        opened.push(connection);
        await connection.rows({ query: 'SELECT 1', params: {} });
        return connection;
      };
      let probe: Promise<ClickHouse> | undefined;
      let reply: OneTaskReply<Result>;
      try {
        const ch = await open();
        const result = await answer({ ch, probe: () => (probe ??= open()) }, task);
        reply = { ok: true, result, peakRssBytes: process.resourceUsage().maxRSS * 1024 };
      } catch (err) {
        reply = { ok: false, error: err instanceof Error ? err.message : String(err), peakRssBytes: 0 };
      } finally {
        for (const connection of opened.reverse()) await connection.close();
      }
      process.send?.(reply, () => process.exit(0));
    })();
  });
}
