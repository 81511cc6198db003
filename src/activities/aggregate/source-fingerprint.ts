import { createHash } from 'node:crypto';
import type { ClickHouse } from '../../clickhouse/clickhouse';
import type { SourceSnapshot } from '../../shared/ledger';
import { partitionOf, type PartitionBounds } from '../../shared/partitions';
import type { Statement } from '../../clickhouse/statement';
import { isMergeTreeFamily } from '../../clickhouse/engine-family';
import { selectTableInfo } from '../../sql/engine/introspection';
import type { AggregationShape } from '../../sql/aggregate/aggregation-shape';
import {
  partDayBoundsOf,
  selectSourceDaysByPart,
  selectSourceFingerprintDays,
  selectSourcePartDays,
  type FingerprintDayRow,
  type SourcePartRow,
} from '../../sql/aggregate/source-fingerprint';
import type { TableRef } from '../../shared/table-ref';

/** 16 hex digits of SHA-256 over a set of part content hashes (order-free). */
function hashOfParts(parts: Iterable<string>): string {
  return createHash('sha256')
    .update([...new Set(parts)].sort().join(','))
    .digest('hex')
    .slice(0, 16);
}

/** What a source fingerprint needs of a job: its date expression and the target's partition granularity. */
export type FingerprintShape = Pick<AggregationShape, 'dateExpr' | 'granularity'>;

/** Whether `source` is a MergeTree table: only its parts fingerprint what a build read. */
export async function sourceHasParts(ch: ClickHouse, source: TableRef): Promise<boolean> {
  const [info] = await ch.rows(selectTableInfo(source));
  return info !== undefined && isMergeTreeFamily(info.engine);
}

/** The snapshot of a partition the source has no rows for. */
export function emptySnapshot(): SourceSnapshot {
  return {
    fingerprint: {
      rows: 0,
      days: {},
      version: 0,
      contentHash: hashOfParts([]),
      dayHashes: {},
      parts: 0,
      modifiedAt: 0,
      bytes: 0,
    },
    dataVersions: {},
  };
}

/** The first statement {@link sourceFingerprintDays} sends for `range` (for the dry run's list of statements). */
export function firstFingerprintRead(
  shape: FingerprintShape,
  source: TableRef,
  range: Pick<PartitionBounds, 'start' | 'end'>,
): Statement {
  const bounds = partDayBoundsOf(shape.dateExpr);
  return bounds ? selectSourcePartDays(bounds, source, range) : selectSourceFingerprintDays(shape, source, range);
}

/**
 * The source's rows per day of `range` with the parts holding them (see {@link FingerprintDayRow}), from part
 * metadata where it is exact, scanning only where it is not. When the date expression reads the day of the
 * partition key's one `Date` (or `DateTime`) column (see {@link partDayBoundsOf}), `system.parts` keeps each part's
 * first and last day: a part whose rows all fall on one day, with none masked by a lightweight delete, holds
 * `rows` rows of that day, so its metadata is all the fingerprint needs. Only the other parts meeting the range are
 * scanned, for their date column alone. A part the scan finds that the metadata did not list (made by a merge or an
 * insert in between) sends the whole range to the single-statement scan joined with `system.parts`
 * ({@link selectSourceFingerprintDays}), as does any other date expression or partition key.
 */
export async function sourceFingerprintDays(
  ch: ClickHouse,
  shape: FingerprintShape,
  source: TableRef,
  range: Pick<PartitionBounds, 'start' | 'end'>,
): Promise<FingerprintDayRow[]> {
  const scanAll = () => ch.rows(selectSourceFingerprintDays(shape, source, range));
  const bounds = partDayBoundsOf(shape.dateExpr);
  if (!bounds) return scanAll();
  const parts = await ch.rows(selectSourcePartDays(bounds, source, range));
  if (parts.some((p) => Number(p.day_exact) !== 1)) return scanAll();
  const exact = parts.filter((p) => p.first_day === p.last_day && Number(p.masked) === 0);
  const byName = new Map(parts.map((p) => [p.name, p]));
  const cells: { day: string; part: SourcePartRow; rows: number }[] = exact.map((part) => ({
    day: part.first_day,
    part,
    rows: Number(part.rows),
  }));
  if (exact.length < parts.length) {
    const scanned = await ch.rows(
      selectSourceDaysByPart(
        shape,
        source,
        range,
        exact.map((p) => p.name),
      ),
    );
    for (const { day, part, rows } of scanned) {
      const meta = byName.get(part);
      if (!meta) return scanAll();
      cells.push({ day, part: meta, rows: Number(rows) });
    }
  }
  const days = new Map<string, FingerprintDayRow & { exactBytes: number }>();
  for (const { day, part, rows } of cells) {
    if (rows === 0) continue;
    let row = days.get(day);
    if (!row) {
      row = { day, rows: '0', bytes: '0', version: '0', data_version: '0', parts: [], modified: '0', exactBytes: 0 };
      days.set(day, row);
    }
    row.rows = String(Number(row.rows) + rows);
    row.exactBytes += (rows * Number(part.bytes)) / Math.max(Number(part.rows), 1);
    row.version = String(Math.max(Number(row.version), Number(part.version)));
    row.data_version = String(Math.max(Number(row.data_version), Number(part.data_version)));
    row.modified = String(Math.max(Number(row.modified), Number(part.modified)));
    row.parts.push(`${part.name}:${part.hash}`);
  }
  return [...days.values()]
    .sort((a, b) => (a.day < b.day ? -1 : 1))
    .map(({ exactBytes, ...row }) => ({ ...row, bytes: String(Math.round(exactBytes)) }));
}

/**
 * The source's snapshot of every target partition of `range` it has rows for, by partition id (see
 * {@link sourceFingerprintDays}); a partition missing from the map has no source rows ({@link emptySnapshot}).
 * Undefined when the source is not a MergeTree table: it has no parts to tell a change by. `hasParts`, where known
 * (see {@link sourceHasParts}), spares reading the source's engine again.
 */
export async function sourceSnapshots(
  ch: ClickHouse,
  source: TableRef,
  shape: FingerprintShape,
  range: Pick<PartitionBounds, 'start' | 'end'>,
  hasParts?: boolean,
): Promise<Map<string, SourceSnapshot> | undefined> {
  if (!(hasParts ?? (await sourceHasParts(ch, source)))) return undefined;
  // Parts as `<name>:<content hash>`: counted by name, hashed by content.
  const byPartition = new Map<string, { snapshot: SourceSnapshot; parts: Map<string, string> }>();
  const contentOf = (part: string) => part.slice(part.indexOf(':') + 1);
  for (const row of await sourceFingerprintDays(ch, shape, source, range)) {
    const id = partitionOf(row.day, shape.granularity).id;
    let entry = byPartition.get(id);
    if (!entry) byPartition.set(id, (entry = { snapshot: emptySnapshot(), parts: new Map() }));
    const { fingerprint, dataVersions } = entry.snapshot;
    fingerprint.rows += Number(row.rows);
    fingerprint.days[row.day] = Number(row.rows);
    fingerprint.dayHashes[row.day] = hashOfParts(row.parts.map(contentOf));
    fingerprint.version = Math.max(fingerprint.version, Number(row.version));
    fingerprint.modifiedAt = Math.max(fingerprint.modifiedAt, Number(row.modified));
    fingerprint.bytes += Number(row.bytes);
    dataVersions[row.day] = Number(row.data_version);
    for (const part of row.parts) entry.parts.set(part.slice(0, part.indexOf(':')), contentOf(part));
  }
  for (const { snapshot, parts } of byPartition.values()) {
    snapshot.fingerprint.parts = parts.size;
    snapshot.fingerprint.contentHash = hashOfParts(parts.values());
  }
  return new Map([...byPartition].map(([id, { snapshot }]) => [id, snapshot]));
}
