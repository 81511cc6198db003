import { formatIsoDate, parseIsoDate } from './partitions';

/** True when `tz` is an IANA time zone the runtime knows (`UTC`, `Europe/Paris`, …). */
export function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-CA', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

/** The calendar day before the one that `instant` falls on in `timeZone`, as `YYYY-MM-DD`. */
export function dayBefore(instant: Date, timeZone: string): string {
  const parts = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' })
    .formatToParts(instant)
    .reduce<Record<string, string>>((acc, p) => ({ ...acc, [p.type]: p.value }), {});
  const local = new Date(Date.UTC(Number(parts.year), Number(parts.month) - 1, Number(parts.day)));
  local.setUTCDate(local.getUTCDate() - 1);
  return formatIsoDate(local);
}

/** The day after `day` (`YYYY-MM-DD`). */
export function nextDay(day: string): string {
  const d = parseIsoDate(day);
  if (!d) throw new RangeError(`not a date: ${JSON.stringify(day)}`);
  d.setUTCDate(d.getUTCDate() + 1);
  return formatIsoDate(d);
}
