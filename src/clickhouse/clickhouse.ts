import type { ClickHouseClient, ClickHouseSettings } from '@clickhouse/client';
import { queryLogComment } from './query-label';
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
  signal?: AbortSignal;
  queryId?: string;
}

/** The project's one door to ClickHouse: parameterised statements, typed rows, settings that never leak. */
export interface ClickHouse {
  /** True for the in-process chDB engine, false for a server over HTTP. */
  readonly embedded: boolean;
  rows<T>(statement: Statement<T>, options?: RunOptions): Promise<T[]>;
  exec(statement: Statement, options?: RunOptions): Promise<void>;
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
  if (!embedded) return wrapHttpClient(client);
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

  return {
    embedded,
    async rows<T>(statement: Statement<T>, options?: RunOptions): Promise<T[]> {
      const settings = { ...(await settingsFor(options)), output_format_json_quote_64bit_integers: 1 as const };
      return send(settings, options?.signal, async (clickhouse_settings) => {
        const result = await client.query({
          query: statement.query,
          query_params: statement.params,
          format: 'JSONEachRow',
          clickhouse_settings,
          abort_signal: options?.signal,
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
}

/** The settings a query sets, with the current step's `log_comment` where it sets none. */
function labelled(options: RunOptions | undefined): ClickHouseSettings {
  const logComment = queryLogComment();
  return {
    ...(logComment !== undefined ? { log_comment: logComment } : {}),
    ...(options?.settings as ClickHouseSettings | undefined),
  };
}

/** Over HTTP: only the settings a statement sets (see {@link MANAGED_SETTINGS}), no session, no reset. */
function wrapHttpClient(client: ClickHouseClient): ClickHouse {
  return {
    embedded: false,
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
        abort_signal: options?.signal,
        query_id: options?.queryId,
      });
      return result.json<T>();
    },
    async exec(statement: Statement, options?: RunOptions): Promise<void> {
      await client.command({
        query: statement.query,
        query_params: statement.params,
        clickhouse_settings: labelled(options),
        abort_signal: options?.signal,
        query_id: options?.queryId,
      });
    },
    close: () => client.close(),
  };
}
