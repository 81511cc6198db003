import type { Statement } from '../../clickhouse/statement';
import { tableParam } from '../engine/table-param';
import type { TableRef } from '../../shared/table-ref';

/** The day and partition id the probe writes, in the monthly partitioning backfills use by default. */
export const PROBE_DAY = '2024-01-01';
export const PROBE_PARTITION_ID = '202401';

/** A tiny MergeTree partitioned by month, the shape of every backfill target. */
export function createProbeTable(table: TableRef): Statement {
  const t = tableParam('table', table);
  return {
    query: `CREATE TABLE ${t.sql} (date Date, n UInt32) ENGINE = MergeTree PARTITION BY toYYYYMM(date) ORDER BY n`,
    params: t.params,
  };
}

/** One row in {@link PROBE_PARTITION_ID}, through `INSERT … SELECT` as the backfill writes. */
export function insertProbeRow(table: TableRef): Statement {
  const t = tableParam('table', table);
  return { query: `INSERT INTO ${t.sql} SELECT {day:Date}, 1`, params: { ...t.params, day: PROBE_DAY } };
}
