import {
  dayBuildFingerprint,
  partitionChange,
  type LedgerEntry,
  type SourceFingerprint,
  type SourceSnapshot,
} from '../../src/shared/ledger';

const fingerprint = (overrides: Partial<SourceFingerprint> = {}): SourceFingerprint => ({
  rows: 30,
  days: { '2024-01-01': 10, '2024-01-02': 10, '2024-01-03': 10 },
  version: 5,
  contentHash: 'h-all',
  dayHashes: { '2024-01-01': 'h1', '2024-01-02': 'h2', '2024-01-03': 'h3' },
  parts: 2,
  modifiedAt: 1_700_000_000,
  bytes: 1234,
  ...overrides,
});

const entry = (overrides: Partial<LedgerEntry> = {}): LedgerEntry => ({
  partition: '202401',
  swappedAt: '2024-02-01T00:00:00.000Z',
  writer: 'backfill-1',
  build: 'rebuild',
  action: 'replaced',
  jobHash: 'job',
  fingerprint: fingerprint(),
  note: '',
  targetRows: 25,
  rowsRead: 30,
  buildMs: 100,
  ...overrides,
});

describe('partitionChange: what --only changed decides by', () => {
  it('is unchanged when the source and the target are as the ledger recorded, naming the row that vouches', () => {
    expect(partitionChange(fingerprint(), entry(), 'job', 25)).toEqual({
      changed: false,
      reason: 'unchanged since 2024-02-01T00:00:00.000Z (backfill-1)',
    });
  });

  it('is unchanged after a merge (same version, new content hash) and after a mutation that left the parts as they were (new version, same content)', () => {
    expect(partitionChange(fingerprint({ contentHash: 'merged', parts: 1 }), entry(), 'job', 25).changed).toBe(false);
    expect(partitionChange(fingerprint({ version: 9 }), entry(), 'job', 25).changed).toBe(false);
  });

  it.each<[string, SourceFingerprint | undefined, LedgerEntry | undefined, string, number, string]>([
    ['no ledger row', fingerprint(), undefined, 'job', 25, 'not in the ledger'],
    ['another job definition', fingerprint(), entry(), 'other', 25, 'job definition changed since backfill-1'],
    [
      'a row that cannot vouch',
      fingerprint(),
      entry({ fingerprint: undefined, note: 'restored from db.t_backup_x' }),
      'job',
      25,
      'the ledger cannot vouch for it: restored from db.t_backup_x',
    ],
    [
      'a source without fingerprint',
      undefined,
      entry(),
      'job',
      25,
      'the source has no fingerprint (not a MergeTree table)',
    ],
    [
      'a target written by someone else',
      fingerprint(),
      entry(),
      'job',
      24,
      'the target holds 24 rows, the ledger recorded 25',
    ],
    [
      'new source rows',
      fingerprint({ rows: 31, days: { '2024-01-01': 11 } }),
      entry(),
      'job',
      25,
      'source rows 30 → 31',
    ],
    [
      'rows moved between days',
      fingerprint({ days: { '2024-01-01': 9, '2024-01-02': 11, '2024-01-03': 10 } }),
      entry(),
      'job',
      25,
      'source rows moved between days',
    ],
    [
      'rows rewritten in place (new version and new content)',
      fingerprint({ version: 9, contentHash: 'updated' }),
      entry(),
      'job',
      25,
      'source rewritten (new parts or mutations)',
    ],
  ])('is changed for %s', (_what, current, recorded, jobHash, targetRows, reason) => {
    expect(partitionChange(current, recorded, jobHash, targetRows)).toEqual({ changed: true, reason });
  });
});

describe('dayBuildFingerprint: what a daily run may vouch for', () => {
  // The daily run rebuilt 2024-01-03, whose source gained 5 rows in a new part (block 7).
  const snapshot = (
    overrides: Partial<SourceFingerprint> = {},
    dataVersions: Record<string, number> = {},
  ): SourceSnapshot => ({
    fingerprint: fingerprint({
      rows: 35,
      days: { '2024-01-01': 10, '2024-01-02': 10, '2024-01-03': 15 },
      version: 7,
      ...overrides,
    }),
    dataVersions: { '2024-01-01': 1, '2024-01-02': 1, '2024-01-03': 7, ...dataVersions },
  });

  it('vouches for the whole partition when the other days are as the previous row recorded', () => {
    const s = snapshot();
    expect(dayBuildFingerprint(s, '2024-01-03', entry(), 'job', 20)).toEqual({ fingerprint: s.fingerprint, note: '' });
  });

  it('vouches when the other days were only renumbered by a mutation that left their parts unchanged', () => {
    const s = snapshot({}, { '2024-01-01': 9, '2024-01-02': 9 });
    expect(dayBuildFingerprint(s, '2024-01-03', entry(), 'job', 20).fingerprint).toBe(s.fingerprint);
  });

  it.each<[string, SourceSnapshot, LedgerEntry | undefined, string, string]>([
    [
      'no earlier row',
      snapshot(),
      undefined,
      'job',
      'day 2024-01-03 loaded; no earlier ledger row vouches for the other days',
    ],
    [
      'another job definition',
      snapshot(),
      entry(),
      'other',
      'day 2024-01-03 loaded; the other days came from another job definition',
    ],
    [
      'an earlier row that did not vouch',
      snapshot(),
      entry({ fingerprint: undefined }),
      'job',
      'day 2024-01-03 loaded; the earlier ledger row did not vouch for the other days',
    ],
    [
      'late rows on another day',
      snapshot({ days: { '2024-01-01': 12, '2024-01-02': 10, '2024-01-03': 15 } }),
      entry(),
      'job',
      'day 2024-01-03 loaded; source rows of 2024-01-01 changed since 2024-02-01T00:00:00.000Z',
    ],
    [
      'another day rewritten in place',
      snapshot(
        { dayHashes: { '2024-01-01': 'h1', '2024-01-02': 'updated', '2024-01-03': 'h3b' } },
        { '2024-01-02': 9 },
      ),
      entry(),
      'job',
      'day 2024-01-03 loaded; source rows of 2024-01-02 were rewritten since 2024-02-01T00:00:00.000Z',
    ],
  ])('does not vouch after %s', (_what, s, previous, jobHash, note) => {
    expect(dayBuildFingerprint(s, '2024-01-03', previous, jobHash, 20)).toEqual({ note });
  });

  it('vouches for a partition the ledger never saw only when the day is all it holds', () => {
    const alone = snapshot({ rows: 15, days: { '2024-01-03': 15 } });
    expect(dayBuildFingerprint(alone, '2024-01-03', undefined, 'job', 0).fingerprint).toBe(alone.fingerprint);
    expect(dayBuildFingerprint(alone, '2024-01-03', undefined, 'job', 3).fingerprint).toBeUndefined();
  });
});
