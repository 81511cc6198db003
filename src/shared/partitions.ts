import type { PartitionGranularity } from './job-spec';
import { refusedValue } from './refused-value';

/** A partition of the target, named by its ClickHouse partition ID, with its half-open date range. */
export interface PartitionBounds {
  /** `YYYYMM` for months, `YYYYMMDD` for days: the value of `partition_id` in `system.parts`. */
  id: string;
  /** First day, inclusive, `YYYY-MM-DD`. */
  start: string;
  /** First day after the partition, exclusive, `YYYY-MM-DD`. */
  end: string;
}

const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** Parses `YYYY-MM-DD` as a UTC calendar day; returns undefined when it is not a real date. */
export function parseIsoDate(text: string): Date | undefined {
  const m = ISO_DATE.exec(text);
  if (!m) return undefined;
  const d = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  return formatIsoDate(d) === text ? d : undefined;
}

/** Why `text` is not a `YYYY-MM-DD` day, naming it: `2025-02-30 is not a calendar date`; undefined when it is one. */
export function isoDateRefusal(text: string): string | undefined {
  if (parseIsoDate(text) !== undefined) return undefined;
  return ISO_DATE.test(text)
    ? `${refusedValue(text)} is not a calendar date`
    : `${refusedValue(text)} is not a date written YYYY-MM-DD`;
}

export function formatIsoDate(d: Date): string {
  return d.toISOString().slice(0, 10);
}

/** The partition that holds `day`. */
export function partitionOf(day: string, granularity: PartitionGranularity): PartitionBounds {
  const d = parseIsoDate(day);
  if (!d) throw new RangeError(`not a date: ${JSON.stringify(day)}`);
  const y = d.getUTCFullYear();
  const m = d.getUTCMonth();
  if (granularity === 'month') {
    const start = new Date(Date.UTC(y, m, 1));
    const end = new Date(Date.UTC(y, m + 1, 1));
    return {
      id: formatIsoDate(start).slice(0, 7).replace('-', ''),
      start: formatIsoDate(start),
      end: formatIsoDate(end),
    };
  }
  const end = new Date(Date.UTC(y, m, d.getUTCDate() + 1));
  return { id: day.replace(/-/g, ''), start: day, end: formatIsoDate(end) };
}

/** The partition with the given ID (`YYYYMM` or `YYYYMMDD`). */
export function partitionFromId(id: string, granularity: PartitionGranularity): PartitionBounds {
  const refuse = () => new RangeError(`not a ${granularity} partition ID: ${JSON.stringify(id)}`);
  const day =
    granularity === 'month'
      ? `${id.slice(0, 4)}-${id.slice(4, 6)}-01`
      : `${id.slice(0, 4)}-${id.slice(4, 6)}-${id.slice(6, 8)}`;
  const expectedLength = granularity === 'month' ? 6 : 8;
  if (id.length !== expectedLength || !/^\d+$/.test(id) || !parseIsoDate(day)) throw refuse();
  return partitionOf(day, granularity);
}

/** Every partition that the inclusive day range `[from, to]` touches, in order. */
export function partitionsCovering(from: string, to: string, granularity: PartitionGranularity): PartitionBounds[] {
  if (to < from) throw new RangeError(`range ends (${to}) before it starts (${from})`);
  const out: PartitionBounds[] = [];
  let p = partitionOf(from, granularity);
  const last = partitionOf(to, granularity).id;
  for (;;) {
    out.push(p);
    if (p.id === last) return out;
    p = partitionOf(p.end, granularity);
  }
}
