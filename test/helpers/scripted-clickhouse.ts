import { MockActivityEnvironment } from '@temporalio/testing';
import type { ClickHouse, RunOptions } from '../../src/clickhouse/clickhouse';
import type { Statement } from '../../src/clickhouse/statement';
import { partitionSteps } from '../../src/activities/engine/partition-steps';
import type { ActivityDeps } from '../../src/activities/engine/deps';
import type { PartitionTask } from '../../src/shared/partition-task';
import type { TableColumn } from '../../src/sql/engine/introspection';
import { TOPOLOGY_COLUMNS } from './topology-jobs';

/** One statement as the steps sent it: rows() or exec(), text, parameters and the settings it was run with. */
export interface SentStatement {
  via: 'rows' | 'exec';
  query: string;
  params: Record<string, unknown>;
  settings?: Record<string, unknown>;
}

/** Every row's column reads as `value`: validation's totals agree whatever they name. */
const uniformRow = (value: string): Record<string, string> => new Proxy({}, { get: () => value });

/**
 * A ClickHouse that runs nothing: it records every statement in order and answers reads from a script, so the real
 * step bodies can run as if on a server of any topology. Every partition holds `rows` rows (`rowsOf` a table, by
 * `database.name`, where given) until a `MOVE PARTITION` takes a table's parts away; a table's partitions are
 * `partitionId`. Row counts are answered alike from `system.parts` (one server) and from the table (Cloud). On a
 * cluster every host of `replicaHosts` answers DDL and the check of every replica. A table of `columnsOf` (by
 * `database.name`) answers `system.columns` with its columns.
 */
export function scriptedClickHouse(
  embedded: boolean,
  partitionId: string,
  rows = 10,
  rowsOf: Record<string, number> = {},
  replicaRows: Record<string, number> = {},
  replicaHosts = ['ch-node-1', 'ch-node-2', 'ch-node-3'],
  columnsOf: Record<string, TableColumn[]> = TOPOLOGY_COLUMNS,
) {
  const sent: SentStatement[] = [];
  const moved = new Set<string>();
  const tableOf = (params: Record<string, unknown>, key: string) =>
    `${String(params[`${key}_db`])}.${String(params[key])}`;
  const answer = (statement: Statement, settings?: Record<string, unknown>): unknown[] => {
    const { query, params } = statement;
    // DDL on a cluster answers a status per host: every host done.
    if (settings?.distributed_ddl_output_mode !== undefined) {
      return replicaHosts.map((host) => ({ host, status: 0, error: '' }));
    }
    // A partition's rows on every replica of a cluster: each holds the partition's rows.
    if (/hostName\(\) AS host, toString\(count\(\)\) AS rows FROM clusterAllReplicas/.test(query)) {
      // A table whose partition was moved away holds nothing on any replica: none answers a row.
      const [, db, name] = /clusterAllReplicas\('[^']*', `(\w+)`\.`(\w+)`\)/.exec(query) ?? [];
      if (moved.has(`${db}.${name}`)) return [];
      return replicaHosts.map((host) => ({ host, rows: String(replicaRows[host] ?? rows) }));
    }
    // A row count names its table as `{db}`/`{name}` (system.parts) or `{table_db}`/`{table}` (the table itself).
    const named =
      params.db !== undefined
        ? `${String(params.db)}.${String(params.name)}`
        : params.table_db !== undefined
          ? tableOf(params, 'table')
          : '';
    // One partition's count, or a listing of the table's partitions (a snapshot's): the one partition.
    if (/AS rows FROM (system\.parts|\S+ WHERE _partition_id = |\S+ GROUP BY id)/.test(query)) {
      return [{ id: partitionId, rows: moved.has(named) ? '0' : String(rowsOf[named] ?? rows) }];
    }
    // A table's engine (read by a view's validation): a plain one, its arguments naming nothing.
    if (query.startsWith('SELECT engine, engine_full')) {
      return [
        { engine: 'SummingMergeTree', engine_full: 'SummingMergeTree ORDER BY k', partition_key: '', sorting_key: 'k' },
      ];
    }
    if (query.includes('FROM system.tables WHERE database')) return [{ present: 1 }];
    if (query.includes('FROM system.columns') && columnsOf[named] !== undefined) return columnsOf[named];
    // A batch of files: each file of the batch holds `rows` rows before the checkpoint, of 100 bytes, no ETag; the
    // ledger holds none of the batch yet.
    if (/^SELECT _path AS path, toString\(count\(\)\) AS rows/.test(query))
      return (params.batch_files as string[]).map((path) => ({ path, rows: String(rows), size: '100', etag: '' }));
    if (/^SELECT toString\(count\(\)\) AS files FROM \{ledger_db/.test(query)) return [{ files: '0' }];
    if (query.includes('AS part_rows FROM '))
      return moved.has(named) ? [] : [{ id: partitionId, part_rows: String(rows) }];
    if (
      query.includes('query_log') ||
      query.includes('AS day,') ||
      query.includes('AS day_exact') ||
      query.includes('ledger')
    )
      return [];
    // No query of an earlier build attempt outlives its KILL.
    if (query.includes('WHERE startsWith(query_id')) return [];
    return [uniformRow(String(rows))];
  };
  const ch: ClickHouse = {
    embedded,
    rows: <T>(statement: Statement<T>, options?: RunOptions) => {
      sent.push({ via: 'rows', query: statement.query, params: statement.params, settings: options?.settings });
      return Promise.resolve(answer(statement, options?.settings) as T[]);
    },
    exec: (statement: Statement, options?: RunOptions) => {
      sent.push({ via: 'exec', query: statement.query, params: statement.params, settings: options?.settings });
      if (/MOVE PARTITION/.test(statement.query)) moved.add(tableOf(statement.params, 'shadow'));
      // A REPLACE from an empty shadow (a sharded cluster's shard) leaves the target's partition empty.
      if (/allow_replace_partition_from_empty_source = 1/.test(statement.query))
        moved.add(tableOf(statement.params, 'target'));
      return Promise.resolve();
    },
    close: () => Promise.resolve(),
    // The control pool is the same server: its statements answer and record alike.
    get control() {
      return ch;
    },
  };
  return { ch, sent };
}

/**
 * The sent statements with what varies between runs taken out: the ledger row's values (its timings) and the KILL's
 * query id prefix stay as they are; only the ledger INSERT's parameters are replaced by their names.
 */
export function normalised(sent: SentStatement[]): SentStatement[] {
  const plain = JSON.parse(JSON.stringify(sent)) as SentStatement[];
  return plain.map((s) =>
    s.params.ledger !== undefined && /^INSERT/.test(s.query)
      ? { ...s, params: Object.fromEntries(Object.keys(s.params).map((k) => [k, '<value>'])) }
      : s,
  );
}

const quiet = { info: () => undefined, warn: () => undefined };

/**
 * Runs a partition task's activities as the partition workflow schedules them: the one build activity (prepare,
 * build, validate), the backup when the task keeps one, the swap with the validated rows, the cleanup.
 */
export async function runPartition(
  ch: ClickHouse,
  task: PartitionTask,
  deps: Pick<ActivityDeps, 'shardClient'> = {},
): Promise<void> {
  const steps = partitionSteps({ clickhouse: ch, log: quiet, ...deps });
  const env = new MockActivityEnvironment({
    workflowExecution: { workflowId: 'wf', runId: 'run' },
    activityId: '1',
    attempt: 1,
  } as never);
  const built = (await env.run(steps.buildValidatedShadow, task)) as Awaited<
    ReturnType<typeof steps.buildValidatedShadow>
  >;
  if (task.backup) await env.run(steps.backupPartition, task);
  await env.run(steps.swapPartition, task, {
    writer: 'wf',
    build: built.build,
    rowsRead: built.validate.rowsRead,
    validatedRows: built.validate.shadowRows,
  });
  await env.run(steps.dropShadow, task);
}
