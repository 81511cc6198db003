import type { Statement } from '../../src/clickhouse/statement';
import { aggregateJobSchema } from '../../src/shared/job-spec';
import { aggregationShape } from '../../src/sql/aggregate/aggregation-shape';
import {
  createLedgerTable,
  insertLedgerRow,
  selectLatestLedgerRows,
  selectLedgerHistory,
  selectMeasuredBuilds,
  selectPreviousLedgerRow,
  type LedgerRecord,
} from '../../src/sql/engine/ledger';
import { selectSourceFingerprintDays } from '../../src/sql/aggregate/source-fingerprint';
import { selectSampleRows, selectSourceRowsOfSample } from '../../src/sql/aggregate/test-day';
import { hostileStrings } from '../helpers/hostile-strings';
import type { TableRef } from '../../src/shared/table-ref';

const shape = aggregationShape(
  aggregateJobSchema.parse({
    kind: 'aggregate',
    source: { table: 'events', timeColumn: 'ts' },
    target: { table: 'events_daily' },
    keys: ['user_id'],
    date: { expression: 'toDate(ts)' },
    metrics: { events: 'count()' },
  }),
);

const record = (text: string): LedgerRecord => ({
  target: text,
  partition: text,
  writer: text,
  writer_run: text,
  build: text,
  action: text,
  job_hash: text,
  source: text,
  fingerprint_known: 1,
  source_rows: 1,
  source_version: 2,
  source_parts: 3,
  source_modified: 4,
  source_bytes: 5,
  source_hash: text,
  source_days: text,
  source_day_hashes: text,
  note: text,
  target_rows: 6,
  rows_read: 7,
  build_ms: 8,
  peak_memory: null,
});

/** Every statement of the ledger, the fingerprint and the test day, with `text` as every name and value. */
function statements(text: string): Record<string, Statement> {
  const t: TableRef = { database: text, name: text };
  const range = { start: '2024-01-01', end: '2024-02-01' };
  return {
    createLedgerTable: createLedgerTable(t),
    insertLedgerRow: insertLedgerRow(t, record(text)),
    selectLatestLedgerRows: selectLatestLedgerRows(t, text, text, text),
    selectPreviousLedgerRow: selectPreviousLedgerRow(t, text, text, text),
    selectLedgerHistory: selectLedgerHistory(t, text, text, 10),
    selectMeasuredBuilds: selectMeasuredBuilds(t, text, 10),
    selectSourceFingerprintDays: selectSourceFingerprintDays(shape, t, range),
    selectSampleRows: selectSampleRows(shape, t, 3),
    selectSourceRowsOfSample: selectSourceRowsOfSample(shape, t, t, range, 'ts', 3, 3),
  };
}

describe('the ledger, fingerprint and test-day statements', () => {
  it('send every name and value as a parameter, never in the SQL text', () => {
    const leaks = hostileStrings().flatMap((h) =>
      Object.entries(statements(h))
        .filter(([, s]) => s.query.includes('Zq9') || !Object.values(s.params).includes(h))
        .map(([name]) => `${name} with ${JSON.stringify(h)}`),
    );
    expect(leaks).toEqual([]);
  });

  it('insert a ledger row with a parameter of the right type for each column, stamped by the server', () => {
    const { query, params } = insertLedgerRow({ database: 'db', name: '_backfill_ledger' }, record('x'));
    const columns = /\(swapped_at, ([^)]*)\)/.exec(query)?.[1].split(', ');
    expect(columns).toEqual(Object.keys(record('x')));
    expect(query).toContain('SELECT now64(3), {target:String}, {partition:String}');
    expect(query).toContain("toDateTime({source_modified:UInt32}, 'UTC')");
    expect(query).toContain('{peak_memory:Nullable(UInt64)}');
    expect(params).toMatchObject({ ledger_db: 'db', ledger: '_backfill_ledger', source_rows: 1, peak_memory: null });
  });

  it('read the newest row per partition, from the deduplicated ledger', () => {
    const { query } = selectLatestLedgerRows({ database: 'db', name: 'l' }, 't', '202401', '202412');
    expect(query).toContain('FINAL');
    expect(query).toContain('ORDER BY swapped_at DESC LIMIT 1 BY partition');
  });
});
