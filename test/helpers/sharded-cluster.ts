import type { ClickHouse, RunOptions } from '../../src/clickhouse/clickhouse';
import type { Statement } from '../../src/clickhouse/statement';
import type { PartitionPlan } from '../../src/shared/backfill-results';
import type { AggregatePartitionTask } from '../../src/shared/partition-task';
import type { ServerProfile, ShardHosts } from '../../src/shared/server-profile';
import { shardedAggregateTask } from '../../src/shared/shard-partitions';
import type { TableRef } from '../../src/shared/table-ref';
import { backupTableFor } from '../../src/shared/writer-tables';
import { scriptedClickHouse, type SentStatement } from './scripted-clickhouse';
import { aggregateJob, PARTITION } from './topology-jobs';

/** A statement as sent, and where to: `main` (the worker's own client) or `shard <n>` (the client to shard n). */
export interface RoutedStatement extends SentStatement {
  on: string;
}

/** A fault on a sharded cluster: may answer a statement sent to `on` otherwise (see test/helpers/cluster-faults.ts). */
export type ShardFault = (statement: Statement, on: string) => { error: Error } | undefined;

/**
 * `ch`, recording each statement it answers in `log` with `on`; its control pool is itself. A statement the fault
 * (`fault()`, looked up on each statement) answers with an error is not recorded, and throws that error.
 */
function routed(
  ch: ClickHouse,
  on: string,
  log: RoutedStatement[],
  fault: () => ShardFault | undefined = () => undefined,
): ClickHouse {
  const record = (via: 'rows' | 'exec', statement: Statement, options?: RunOptions) => {
    const failure = fault()?.(statement, on);
    if (failure) throw failure.error;
    log.push({ on, via, query: statement.query, params: statement.params, settings: options?.settings });
  };
  const client: ClickHouse = {
    embedded: false,
    rows: <T>(statement: Statement<T>, options?: RunOptions) => {
      record('rows', statement, options);
      return ch.rows(statement, options);
    },
    exec: (statement: Statement, options?: RunOptions) => {
      record('exec', statement, options);
      return ch.exec(statement, options);
    },
    close: () => Promise.resolve(),
    get control() {
      return client;
    },
  };
  return client;
}

/**
 * A sharded cluster that runs nothing (test/helpers/scripted-clickhouse.ts): the worker's own client (`main`) and a
 * client per shard of `server` (`shardClient`, as the worker's src/clickhouse/shard-clients.ts), every statement
 * recorded in `sent` with the client it went through. Each shard's replicas answer its DDL and replica checks.
 */
export function scriptedShardedCluster(
  server: ServerProfile,
  options: { rows?: number; rowsOf?: Record<string, number>; replicaRows?: Record<string, number> } = {},
) {
  const { rows = 10, rowsOf = {}, replicaRows = {} } = options;
  const sent: RoutedStatement[] = [];
  let fault: ShardFault | undefined;
  const current = () => fault;
  const shards = server.sharding?.shards ?? [];
  const allHosts = shards.flatMap((s) => s.hosts);
  const main = routed(scriptedClickHouse(false, PARTITION.id, rows, rowsOf, {}, allHosts).ch, 'main', sent, current);
  const clients = new Map(
    shards.map((s) => [
      s.num,
      routed(
        scriptedClickHouse(false, PARTITION.id, rows, rowsOf, replicaRows, s.hosts).ch,
        `shard ${s.num}`,
        sent,
        current,
      ),
    ]),
  );
  return {
    ch: main,
    shardClient: (shard: ShardHosts): ClickHouse => clients.get(shard.num)!,
    sent,
    /** Switches `next` on (or every fault off with `undefined`). */
    set(next: ShardFault | undefined): void {
      fault = next;
    },
  };
}

/** The profile's Distributed source and target (`<db>.events`, `<db>.events_daily`). */
export function distributedTables(server: ServerProfile): { source: TableRef; target: TableRef } {
  const database = Object.keys(server.sharding?.distributed ?? {})[0].split('.')[0];
  return { source: { database, name: 'events' }, target: { database, name: 'events_daily' } };
}

/** A backfill's task of partition 202401 on shard `shard`, built as backfillWorkflow builds it (tag `w1`). */
export function shardTask(server: ServerProfile, shard: number, partition: Partial<PartitionPlan> = {}) {
  const tables = distributedTables(server);
  const local = server.sharding!.distributed[`${tables.target.database}.events_daily`].local;
  const task = shardedAggregateTask(
    {
      job: aggregateJob,
      build: { kind: 'rebuild' },
      sourceHasParts: true,
      backup: backupTableFor(local, 'w1'),
      maxShrink: aggregateJob.safety.maxShrink,
    },
    { ...tables, server },
    { ...PARTITION, ...partition, id: `${PARTITION.id}@${shard}`, shard },
    'w1',
  );
  if (!task) throw new Error(`no task for shard ${shard}`);
  return task satisfies AggregatePartitionTask;
}
