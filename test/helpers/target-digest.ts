import type { ClickHouse } from '../../src/clickhouse/clickhouse';

/** Row count and an order-free hash of a query's rows. */
async function digest(ch: ClickHouse, query: string): Promise<unknown[]> {
  return ch.rows({ query: `SELECT count() AS n, sum(cityHash64(*)) AS h FROM (${query})`, params: {} });
}

/**
 * Digests of `<db>.events_daily` and of a from-scratch single-level GROUP BY of `<db>.events` (the example job),
 * in one comparable form: float sums rounded, since salting changes the order of summation and so the last bits.
 */
export async function targetAndSingleLevel(
  ch: ClickHouse,
  db: string,
): Promise<{ target: unknown; expected: unknown }> {
  const target = `SELECT user_id, host, device_ip, date, daily_events, round(daily_sum_ctr, 6) AS s,
      round(daily_sum_sq_ctr, 6) AS sq, arraySort(hours) AS hours FROM ${db}.events_daily`;
  const expected = `SELECT user_id, host, device_ip, toDate(ts) AS date, count() AS daily_events,
      round(sum(ctr), 6) AS s, round(sum(ctr * ctr), 6) AS sq, arraySort(groupUniqArray(toHour(ts))) AS hours
    FROM ${db}.events GROUP BY user_id, host, device_ip, date`;
  return { target: await digest(ch, target), expected: await digest(ch, expected) };
}
