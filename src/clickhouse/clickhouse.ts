import type { ClickHouseClient, ClickHouseSettings } from '@clickhouse/client';
import { execTracked, DEFAULT_TRACKING, type TrackingOptions } from './query-follower';
import { queryLogComment } from './query-label';
import { currentQueryScope } from './query-scope';
import { SessionSettings } from './session-settings';
import type { Statement } from './statement';

/**
 * Settings this project ever changes. On the embedded engine each query sends all of them: its own value where it
 * sets one, the compile-time default otherwise, because chDB keeps per-query settings in its session, so a setting
 * sent once would otherwise leak into every later query. Over HTTP a query sends only the settings it sets: a
 * reset there would override the user's profile (memory limits, spilling) and fail on any constraint on it.
 */
export const MANAGED_SETTINGS = [
  'max_threads',
  'max_insert_threads',
  'min_insert_block_size_rows',
  'min_insert_block_size_bytes',
  'min_insert_block_size_rows_for_materialized_views',
  'min_insert_block_size_bytes_for_materialized_views',
  'max_memory_usage',
  'max_bytes_before_external_group_by',
  'collect_hash_table_stats_during_aggregation',
  'temporary_files_buffer_size',
  'log_comment',
] as const;
export type ManagedSetting = (typeof MANAGED_SETTINGS)[number];
export type QuerySettings = Partial<Record<ManagedSetting, number | string>>;

export interface RunOptions {
  settings?: QuerySettings;
  /** Aborts the statement; a read without one takes the running step's cancellation (see query-scope.ts). */
  signal?: AbortSignal;
  /**
   * The statement's query id. Over HTTP, a write with one is tracked by it: started, then followed through the
   * server's record (see {@link execTracked}), so no proxy's idle timeout decides its outcome.
   */
  queryId?: string;
}

/** The project's one door to ClickHouse: parameterised statements, typed rows, settings that never leak. */
export interface ClickHouse {
  /** True for the in-process chDB engine, false for a server over HTTP. */
  readonly embedded: boolean;
  rows<T>(statement: Statement<T>, options?: RunOptions): Promise<T[]>;
  exec(statement: Statement, options?: RunOptions): Promise<void>;
  /**
   * The same server through the control pool: a second, small connection pool for KILL, `system.*` reads, load
   * checks and the follower's reads, so that builds filling the main pool never queue them. On the embedded
   * engine, the engine itself (one query at a time anyway).
   */
  readonly control: ClickHouse;
  close(): Promise<void>;
}

/**
 * Wraps a @clickhouse/client client (HTTP or chDB connection) as a {@link ClickHouse}. Every query carries the
 * current step's `log_comment` (see {@link queryLogComment}) unless it sets its own. Over HTTP a query sends only
 * the settings it sets, and reads ask the server to cancel them when the client goes away; on the embedded engine
 * every managed setting is pinned, and only those its session does not hold yet are sent (see
 * {@link SessionSettings}).
 */
export function wrapClient(client: ClickHouseClient, embedded: boolean): ClickHouse {
  if (!embedded) return wrapHttpClient(client, client, DEFAULT_TRACKING);
  let defaults: Promise<ClickHouseSettings> | undefined;
  const loadDefaults = async (): Promise<ClickHouseSettings> => {
    const result = await client.query({
      query: 'SELECT name, default FROM system.settings WHERE name IN {names:Array(String)}',
      query_params: { names: [...MANAGED_SETTINGS] },
      format: 'JSONEachRow',
    });
    const rows = await result.json<{ name: string; default: string }>();
    return Object.fromEntries(rows.map((r) => [r.name, r.default])) as ClickHouseSettings;
  };
  const settingsFor = async (options: RunOptions | undefined): Promise<ClickHouseSettings> => {
    // A failed first read is not kept: the next query asks again, so a passing outage never sticks to the worker.
    defaults ??= loadDefaults().catch((err: unknown) => {
      defaults = undefined;
      throw err;
    });
    return { ...(await defaults), ...labelled(options) };
  };
  const session = new SessionSettings();
  const send = <T>(
    settings: ClickHouseSettings,
    signal: AbortSignal | undefined,
    query: (settings: ClickHouseSettings) => Promise<T>,
  ): Promise<T> => session.run(settings, signal, query);

  const embeddedClickHouse: ClickHouse = {
    embedded,
    get control() {
      return embeddedClickHouse;
    },
    async rows<T>(statement: Statement<T>, options?: RunOptions): Promise<T[]> {
      const settings = { ...(await settingsFor(options)), output_format_json_quote_64bit_integers: 1 as const };
      const signal = readSignal(options);
      return send(settings, signal, async (clickhouse_settings) => {
        const result = await client.query({
          query: statement.query,
          query_params: statement.params,
          format: 'JSONEachRow',
          clickhouse_settings,
          abort_signal: signal,
          query_id: options?.queryId,
        });
        return result.json<T>();
      });
    },
    async exec(statement: Statement, options?: RunOptions): Promise<void> {
      await send(await settingsFor(options), options?.signal, (clickhouse_settings) =>
        client.command({
          query: statement.query,
          query_params: statement.params,
          clickhouse_settings,
          abort_signal: options?.signal,
          query_id: options?.queryId,
        }),
      );
    },
    close: () => client.close(),
  };
  return embeddedClickHouse;
}

/** A read's signal: its own, else the running step's cancellation. */
function readSignal(options: RunOptions | undefined): AbortSignal | undefined {
  return options?.signal ?? currentQueryScope().signal;
}

/** The settings a query sets, with the current step's `log_comment` where it sets none. */
function labelled(options: RunOptions | undefined): ClickHouseSettings {
  const logComment = queryLogComment();
  return {
    ...(logComment !== undefined ? { log_comment: logComment } : {}),
    ...(options?.settings as ClickHouseSettings | undefined),
  };
}

/**
 * Over HTTP: only the settings a statement sets (see {@link MANAGED_SETTINGS}), no session, no reset. Statements
 * go through `main`, the control door through `control` (a second client with its own small pool; `main` again
 * where one pool is enough, as in tests). A write with a query id is tracked by it (see {@link execTracked}).
 */
export function wrapHttpClient(
  main: ClickHouseClient,
  control: ClickHouseClient,
  tracking: TrackingOptions,
): ClickHouse {
  const door = (client: ClickHouseClient, controlDoor: () => ClickHouse): ClickHouse => ({
    embedded: false,
    get control() {
      return controlDoor();
    },
    async rows<T>(statement: Statement<T>, options?: RunOptions): Promise<T[]> {
      const result = await client.query({
        query: statement.query,
        query_params: statement.params,
        format: 'JSONEachRow',
        clickhouse_settings: {
          ...labelled(options),
          output_format_json_quote_64bit_integers: 1,
          // A read whose caller gave up (abort, timeout, dropped socket) stops on the server too.
          cancel_http_readonly_queries_on_client_close: 1,
        },
        abort_signal: readSignal(options),
        query_id: options?.queryId,
      });
      return result.json<T>();
    },
    async exec(statement: Statement, options?: RunOptions): Promise<void> {
      if (options?.queryId !== undefined && client === main) {
        const { signal, queryId } = options;
        const { systemTable } = currentQueryScope();
        return execTracked(
          main,
          controlDoor(),
          statement,
          { settings: labelled(options), queryId, signal, systemTable },
          tracking,
        );
      }
      await client.command({
        query: statement.query,
        query_params: statement.params,
        clickhouse_settings: labelled(options),
        abort_signal: options?.signal,
        query_id: options?.queryId,
      });
    },
    close: async () => {
      await client.close();
    },
  });
  const controlClickHouse: ClickHouse = door(control, () => controlClickHouse);
  const mainClickHouse = door(main, () => controlClickHouse);
  return {
    ...mainClickHouse,
    control: controlClickHouse,
    close: async () => {
      await main.close();
      if (control !== main) await control.close();
    },
  };
}
