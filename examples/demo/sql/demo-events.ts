import type { Statement } from '../../../src/clickhouse/statement';
import type { TableRef } from '../../../src/shared/table-ref';
import { tableParam } from '../../../src/sql/engine/table-param';

/** The raw events table of the demo job: one row per event, partitioned by month. */
export function createDemoEventsTable(table: TableRef): Statement {
  const t = tableParam('table', table);
  return {
    query: [
      `CREATE TABLE IF NOT EXISTS ${t.sql} (`,
      '  ts DateTime, user_id UInt64, host LowCardinality(String), device_ip IPv4, ctr Float64',
      ') ENGINE = MergeTree PARTITION BY toYYYYMM(ts) ORDER BY (user_id, host, device_ip, ts)',
    ].join('\n'),
    params: t.params,
  };
}

export function countRows(table: TableRef): Statement<{ rows: string }> {
  const t = tableParam('table', table);
  return { query: `SELECT count() AS rows FROM ${t.sql}`, params: t.params };
}

/**
 * The head of both demo generators' INSERT: the event columns derived from a row's hash `h` and its `heavy` flag,
 * which the generator's inner SELECT (continuing this text) defines with `ts` from `number`.
 */
function demoEventColumns(table: string): string[] {
  return [
    `INSERT INTO ${table} (ts, user_id, host, device_ip, ctr)`,
    'SELECT ts, if(heavy, 1 + h % 3, 1000 + h % 200000) AS user_id,',
    "  if(heavy, 'heavy.example', concat('host', toString(h % 8), '.example')) AS host,",
    "  if(heavy, toIPv4('10.0.0.1'), toIPv4(167772160 + (h % 50))) AS device_ip,",
    '  (h % 1000) / 1000 AS ctr',
    'FROM (',
    '  SELECT number, cityHash64(number) AS h,',
  ];
}

/**
 * Inserts `rows` synthetic events spread evenly over `months` months from `start`. In month m a share of
 * (5 + 9·m)% of the rows belongs to three heavy keys, so the largest key grows month by month and so does
 * the salt; the other rows spread over about 200,000 users, 8 hosts and 50 device IPs each.
 */
export function insertDemoEvents(table: TableRef, start: string, months: number, rows: number): Statement {
  const t = tableParam('table', table);
  return {
    query: [
      ...demoEventColumns(t.sql),
      '    intDiv(number * {months:UInt32}, {rows:UInt64}) AS m,',
      '    addSeconds(addMonths(toDateTime({start:Date}), m),',
      '      toUInt32((number * {months:UInt32}) % {rows:UInt64} * 2419200 / {rows:UInt64})) AS ts,',
      '    (h % 100) < 5 + 9 * m AS heavy',
      '  FROM numbers({rows:UInt64}))',
    ].join('\n'),
    params: { ...t.params, start, months, rows },
  };
}

/**
 * Inserts `rowsPerDay` synthetic events on each of `days` days from `from`, spread over the day: 5 % of them on
 * three heavy keys, the others over about 200,000 users, 8 hosts and 50 device IPs, as {@link insertDemoEvents}.
 * Every day gets rows, so a day-partitioned job has one partition per day.
 */
export function insertDailyDemoEvents(table: TableRef, from: string, days: number, rowsPerDay: number): Statement {
  const t = tableParam('table', table);
  return {
    query: [
      ...demoEventColumns(t.sql),
      '    addSeconds(addDays(toDateTime({from:Date}), intDiv(number, {per_day:UInt32})),',
      '      toUInt32(number % {per_day:UInt32} * 86400 / {per_day:UInt32})) AS ts,',
      '    (h % 100) < 5 AS heavy',
      '  FROM numbers({rows:UInt64}))',
    ].join('\n'),
    params: { ...t.params, from, per_day: rowsPerDay, rows: days * rowsPerDay },
  };
}

/**
 * Rows, events and an order-free hash of one partition of a table shaped like the demo job's `events_daily`
 * (examples/events-daily.yaml): equal for two tables holding the same rows, and different otherwise but for hash
 * collisions. Float sums are rounded to 6 decimals (the demo's ctr has 3), since the order of summation changes their
 * last bits; `hours` is sorted.
 */
export function selectEventsDailyDigest(
  table: TableRef,
  partitionId: string,
): Statement<{ rows: string; events: string; hash: string }> {
  const t = tableParam('table', table);
  return {
    query: [
      'SELECT toString(count()) AS rows, toString(sum(daily_events)) AS events,',
      '  toString(sum(cityHash64(user_id, host, device_ip, date, daily_events, round(daily_sum_ctr, 6),',
      '    round(daily_sum_sq_ctr, 6), arraySort(hours)))) AS hash',
      `FROM ${t.sql} WHERE _partition_id = {partition:String}`,
    ].join('\n'),
    params: { ...t.params, partition: partitionId },
  };
}
