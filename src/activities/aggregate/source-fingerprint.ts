import { createHash } from 'node:crypto';
import type { ClickHouse } from '../../clickhouse/clickhouse';
import type { SourceSnapshot } from '../../shared/ledger';
import type { PartitionGranularity } from '../../shared/job-spec';
import { partitionOf } from '../../shared/partitions';
import type { Statement } from '../../clickhouse/statement';
import { isMergeTreeFamily } from '../../clickhouse/engine-family';
import { selectTableInfo } from '../../sql/engine/introspection';
import type { FingerprintDayRow } from '../../sql/aggregate/source-fingerprint';
import type { TableRef } from '../../shared/table-ref';

/** 16 hex digits of SHA-256 over a set of part content hashes (order-free). */
function hashOfParts(parts: Iterable<string>): string {
  return createHash('sha256')
    .update([...new Set(parts)].sort().join(','))
    .digest('hex')
    .slice(0, 16);
}

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

/**
 * The source's snapshot of every target partition it has rows for, by partition id, from `days` (the
 * `selectSourceFingerprintDays` of a range); a partition missing from the map has no source rows
 * ({@link emptySnapshot}). Undefined when the source is not a MergeTree table: it has no parts to tell a change by.
 * `hasParts`, where known (see {@link sourceHasParts}), spares reading the source's engine again.
 */
export async function sourceSnapshots(
  ch: ClickHouse,
  source: TableRef,
  granularity: PartitionGranularity,
  days: Statement<FingerprintDayRow>,
  hasParts?: boolean,
): Promise<Map<string, SourceSnapshot> | undefined> {
  if (!(hasParts ?? (await sourceHasParts(ch, source)))) return undefined;
  // Parts as `<name>:<content hash>`: counted by name, hashed by content.
  const byPartition = new Map<string, { snapshot: SourceSnapshot; parts: Map<string, string> }>();
  const contentOf = (part: string) => part.slice(part.indexOf(':') + 1);
  for (const row of await ch.rows(days)) {
    const id = partitionOf(row.day, granularity).id;
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
