/** The task queue the worker serves unless `TEMPORAL_TASK_QUEUE` says otherwise. */
export const DEFAULT_TASK_QUEUE = 'clickhouse-backfill';
