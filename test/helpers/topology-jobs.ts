import { aggregateJobSchema, importJobSchema, viewJobSchema } from '../../src/shared/job-spec';
import type { ImportPlan } from '../../src/shared/import-input';
import { importBatchTask } from '../../src/shared/import-batch-task';
import type { AggregatePartitionTask, ImportPartitionTask, ViewPartitionTask } from '../../src/shared/partition-task';
import type { TableColumn } from '../../src/sql/engine/introspection';
import type { TableRef } from '../../src/shared/table-ref';
import { viewPartitionTask } from '../../src/shared/view-partition-task';
import { backupTableFor, shadowTableFor } from '../../src/shared/writer-tables';

/**
 * The same aggregate, view and import jobs for every topology, over the tables the recorded server profiles in
 * test/fixtures/server-profiles/ describe (`default.events` and its targets), and their partition tasks built as
 * the workflows build them. The caller adds `server`.
 */
export const PARTITION = {
  id: '202401',
  start: '2024-01-01',
  end: '2024-02-01',
  sourceRows: 10,
  targetRows: 10,
  maxRowsPerKey: 1,
  salt: 1,
};
const TAG = 'w1';
const source: TableRef = { database: 'default', name: 'events' };

export const aggregateJob = aggregateJobSchema.parse({
  kind: 'aggregate',
  name: 'events_daily',
  source: { table: 'default.events', timeColumn: 'ts' },
  target: { table: 'default.events_daily' },
  partitionBy: 'month',
  keys: ['user_id', 'host'],
  date: { column: 'date', expression: 'toDate(ts)' },
  metrics: { daily_events: 'count()', daily_sum_ctr: 'sum(ctr)' },
  insertSettings: { max_threads: 2, max_insert_threads: 1 },
  validation: { mode: 'full' },
});

/** A backfill's partition (a rebuild with a backup), as backfillWorkflow's `taskFor` builds it. */
export function aggregateTask(): AggregatePartitionTask {
  const target: TableRef = { database: 'default', name: 'events_daily' };
  return {
    job: aggregateJob,
    source,
    target,
    shadow: shadowTableFor(target, PARTITION.id, TAG),
    partition: PARTITION,
    build: { kind: 'rebuild' },
    sourceHasParts: true,
    backup: backupTableFor(target, TAG),
    maxShrink: aggregateJob.safety.maxShrink,
  };
}

/** A daily run's day of the same job (no backup), as dailyIncrementalWorkflow hands it to the partition workflow. */
export function dayTask(): AggregatePartitionTask {
  return { ...aggregateTask(), build: { kind: 'day', day: '2024-01-15' }, backup: undefined, maxShrink: undefined };
}

export const viewJob = viewJobSchema.parse({
  kind: 'view',
  source: { table: 'default.events', timeColumn: 'ts' },
  target: { table: 'default.events_hourly', engine: 'SummingMergeTree', partitionBy: 'month' },
  view: { name: 'events_hourly_mv' },
  groupBy: { hour: 'toStartOfHour(ts)', host: 'host' },
  aggregates: { events: 'count()', ctr: 'sum(ctr)' },
  insertSettings: { max_insert_threads: 1 },
});

/** The columns of the jobs' tables that validation reads from `system.columns`, by `database.name`. */
export const TOPOLOGY_COLUMNS: Record<string, TableColumn[]> = {
  'default.events_hourly': [
    { name: 'hour', type: 'DateTime' },
    { name: 'host', type: 'String' },
    { name: 'events', type: 'UInt64' },
    { name: 'ctr', type: 'Float64' },
  ],
};

export function viewTask(): ViewPartitionTask {
  const target: TableRef = { database: 'default', name: 'events_hourly' };
  return viewPartitionTask(viewJob, { source, target }, PARTITION, TAG, 1_706_745_600);
}

export const importJob = importJobSchema.parse({
  kind: 'import',
  name: 'events_history',
  target: { table: 'default.events', timeColumn: 'ts' },
  source: { table: 'default.events_history' },
  checkpoint: 'auto',
  insertSettings: { max_insert_threads: 1 },
});

const byHost: TableRef = { database: 'default', name: 'events_by_host' };
/** The import job's plan: one batch (January) of `default.events_history`, one view target. */
export const importPlan: ImportPlan = {
  source: { database: 'default', name: 'events_history' },
  target: source,
  checkpoint: 1_706_745_600_000_000,
  partitionKey: 'toYYYYMM(ts)',
  columns: ['ts', 'host', 'ctr'],
  views: [
    {
      view: { database: 'default', name: 'events_by_host_mv' },
      target: byHost,
      select: 'SELECT host, count() AS n FROM default.events GROUP BY host',
    },
  ],
  targets: [{ table: byHost, engine: 'SummingMergeTree', rows: false, totals: [{ column: 'n', read: 'sum' }] }],
  batches: [{ ...PARTITION, fromMicros: 1_704_067_200_000_000, toMicros: 1_706_745_600_000_000 }],
};

export function importTask(): ImportPartitionTask {
  return importBatchTask(importJob, importPlan, importPlan.batches[0], TAG);
}
