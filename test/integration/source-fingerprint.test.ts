import type { ClickHouse } from '../../src/clickhouse/clickhouse';
import { sourceFingerprintDays, sourceSnapshots } from '../../src/activities/aggregate/source-fingerprint';
import { aggregateJobSchema } from '../../src/shared/job-spec';
import { partitionChange, type LedgerEntry, type SourceFingerprint } from '../../src/shared/ledger';
import { aggregationShape } from '../../src/sql/aggregate/aggregation-shape';
import { selectSourceFingerprintDays, type FingerprintDayRow } from '../../src/sql/aggregate/source-fingerprint';
import type { TableRef } from '../../src/shared/table-ref';
import { freshDatabase, openTestClickHouse } from '../helpers/chdb-env';
import { statementOf } from '../helpers/statement-of';

/*
 * The source fingerprint read from part metadata where it is exact (parts of one day), scanning only the other
 * parts: the same rows as the scan joined with system.parts, and every change `--only changed` must see is seen.
 */

const JANUARY = { start: '2024-01-01', end: '2024-02-01' };

describe('the source fingerprint from part metadata', () => {
  let ch: ClickHouse;
  beforeAll(() => {
    ch = openTestClickHouse();
  });
  afterAll(() => ch.close());

  const jobOn = (source: TableRef, dateExpression = 'toDate(ts)') =>
    aggregateJobSchema.parse({
      kind: 'aggregate',
      name: 'fp',
      source: { table: `${source.database}.${source.name}`, timeColumn: 'ts' },
      target: { table: `${source.database}.fp_daily` },
      partitionBy: 'month',
      keys: ['user_id'],
      date: { column: 'date', expression: dateExpression },
      metrics: { n: 'count()' },
    });
  const run = (db: string, sql: string) => ch.exec(statementOf({ query: sql.replaceAll('DB', db), params: {} }));

  /** A source partitioned by month with one part per day of 2024-01-01..05 and one part over 2024-01-10..12. */
  async function seeded(): Promise<TableRef> {
    const db = await freshDatabase(ch, 'fingerprint');
    await run(
      db,
      'CREATE TABLE DB.events (ts DateTime, user_id UInt64, v UInt32 DEFAULT 0) ENGINE = MergeTree PARTITION BY toYYYYMM(ts) ORDER BY user_id',
    );
    await run(db, 'SYSTEM STOP MERGES DB.events');
    for (let day = 1; day <= 5; day++) {
      await run(
        db,
        `INSERT INTO DB.events (ts, user_id) SELECT toDateTime('2024-01-0${day} 00:00:00') + number * 60, number FROM numbers(${day * 10})`,
      );
    }
    await run(
      db,
      "INSERT INTO DB.events (ts, user_id) SELECT toDateTime('2024-01-10 00:00:00') + number * 3600, number FROM numbers(60)",
    );
    return { database: db, name: 'events' };
  }

  const normalized = (rows: FingerprintDayRow[]) =>
    rows.map((r) => ({ ...r, bytes: Math.round(Number(r.bytes) / 10), parts: [...r.parts].sort() }));
  const fingerprintOf = async (source: TableRef): Promise<SourceFingerprint> =>
    (await sourceSnapshots(ch, source, aggregationShape(jobOn(source)), JANUARY, true))!.get('202401')!.fingerprint;
  const entryWith = (fingerprint: SourceFingerprint): LedgerEntry => ({
    partition: '202401',
    swappedAt: '2024-02-01T00:00:00Z',
    writer: 'earlier',
    build: 'rebuild',
    action: 'replaced',
    jobHash: 'job',
    fingerprint,
    note: '',
    targetRows: 0,
    rowsRead: fingerprint.rows,
    buildMs: 0,
  });
  const changeAfter = async (source: TableRef, change: () => Promise<void>) => {
    const before = await fingerprintOf(source);
    await change();
    return partitionChange(await fingerprintOf(source), entryWith(before), 'job', 0);
  };

  it('reads the same days, rows, versions and parts as the scan joined with system.parts', async () => {
    const source = await seeded();
    const shape = aggregationShape(jobOn(source));
    const scanned = await ch.rows(selectSourceFingerprintDays(shape, source, JANUARY));
    const fromParts = await sourceFingerprintDays(ch, shape, source, JANUARY);
    expect(normalized(fromParts)).toEqual(normalized(scanned));
    expect(fromParts.map((r) => [r.day, r.rows])).toEqual([
      ['2024-01-01', '10'],
      ['2024-01-02', '20'],
      ['2024-01-03', '30'],
      ['2024-01-04', '40'],
      ['2024-01-05', '50'],
      ['2024-01-10', '24'],
      ['2024-01-11', '24'],
      ['2024-01-12', '12'],
    ]);
  });

  it('scans only the parts whose days their metadata cannot tell', async () => {
    const source = await seeded();
    const shape = aggregationShape(jobOn(source));
    const sent: string[] = [];
    const recording: ClickHouse = {
      ...ch,
      rows: (statement, options) => {
        sent.push(statement.query);
        return ch.rows(statement, options);
      },
    };
    await sourceFingerprintDays(recording, shape, source, JANUARY);
    expect(sent).toHaveLength(2);
    expect(sent[0]).toMatch(/FROM system\.parts/);
    expect(sent[0]).not.toMatch(/\{source:Identifier\}/);
    expect(sent[1]).toMatch(/_part NOT IN \{known_parts:Array\(String\)\}/);
    // Days from metadata alone: a range whose parts all hold one day each sends no scan.
    sent.length = 0;
    const days = await sourceFingerprintDays(recording, shape, source, { start: '2024-01-02', end: '2024-01-04' });
    expect(days.map((r) => [r.day, r.rows])).toEqual([
      ['2024-01-02', '20'],
      ['2024-01-03', '30'],
    ]);
    expect(sent).toHaveLength(1);
  });

  it('falls back to the scan for a date expression the part metadata cannot answer, with the same rows', async () => {
    const source = await seeded();
    const shape = aggregationShape(jobOn(source, 'toDate(ts + 3600)'));
    const scanned = await ch.rows(selectSourceFingerprintDays(shape, source, JANUARY));
    expect(normalized(await sourceFingerprintDays(ch, shape, source, JANUARY))).toEqual(normalized(scanned));
  });

  it('sees an insert, a mutation, a lightweight delete and a replaced partition; a merge alone changes nothing', async () => {
    const source = await seeded();
    // Mutations wait for the merges the seed stopped.
    await run(source.database, 'SYSTEM START MERGES DB.events');
    await run(source.database, 'CREATE TABLE DB.events_other AS DB.events');
    await run(
      source.database,
      "INSERT INTO DB.events_other (ts, user_id) SELECT toDateTime('2024-01-03 00:00:00'), number FROM numbers(215)",
    );

    const inserted = await changeAfter(source, () =>
      run(source.database, "INSERT INTO DB.events (ts, user_id) VALUES ('2024-01-02 10:00:00', 7)"),
    );
    expect(inserted).toMatchObject({ changed: true, reason: 'source rows 210 → 211' });

    const updated = await changeAfter(source, () =>
      run(
        source.database,
        "ALTER TABLE DB.events UPDATE v = v + 1 WHERE toDate(ts) = '2024-01-04' SETTINGS mutations_sync = 2",
      ),
    );
    expect(updated).toMatchObject({ changed: true, reason: 'source rewritten (new parts or mutations)' });

    const deleted = await changeAfter(source, () =>
      run(source.database, "DELETE FROM DB.events WHERE toDate(ts) = '2024-01-01' AND user_id < 3"),
    );
    expect(deleted).toMatchObject({ changed: true, reason: 'source rows 211 → 208' });

    const merged = await changeAfter(source, () => run(source.database, 'OPTIMIZE TABLE DB.events FINAL'));
    expect(merged).toMatchObject({ changed: false });

    const replaced = await changeAfter(source, () =>
      run(source.database, 'ALTER TABLE DB.events REPLACE PARTITION 202401 FROM DB.events_other'),
    );
    expect(replaced).toMatchObject({ changed: true, reason: 'source rows 208 → 215' });
  });
});
