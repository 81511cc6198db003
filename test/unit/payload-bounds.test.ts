import type { BackfillPlan, PartitionPlan, PartitionResult } from '../../src/shared/backfill-results';
import { partitionsCovering } from '../../src/shared/partitions';
import { searchablePartitionIds } from '../../src/shared/search-attributes';
import { initialProgress, type BackfillProgress } from '../../src/shared/progress';
import { packPartitions, unpackPartitions } from '../../src/workflows/engine/carried-partitions';
import { PartitionLoopState } from '../../src/workflows/engine/partition-loop-state';
import { fileBatches } from '../../src/activities/import/plan-file-import';
import { filesProgress } from '../../src/shared/import-files-progress';

/** Ten years of days, as the plan lists them, with a few hundred rows each. */
const plan: PartitionPlan[] = partitionsCovering('2015-01-01', '2024-12-28', 'day').map((p, i) => ({
  ...p,
  sourceRows: 300 + (i % 97),
  targetRows: 250 + (i % 89),
  maxRowsPerKey: 12,
  salt: 1,
}));

/** What a partition workflow of the example job returns: four checks with their values, six step timers. */
const resultOf = (p: PartitionPlan): PartitionResult => ({
  partition: p.id,
  salt: 1,
  rowsRead: p.sourceRows,
  rowsWritten: p.targetRows,
  rowsBefore: p.targetRows,
  emptied: false,
  backupRows: p.targetRows,
  checks: [
    { name: 'sum(daily_events) = source rows', expected: String(p.sourceRows), actual: String(p.sourceRows), ok: true },
    { name: 'sum(daily_sum_ctr)', expected: '1234.5678901234567', actual: '1234.5678901234569', ok: true },
    { name: 'sum(daily_sum_sq_ctr)', expected: '567.89012345678901', actual: '567.89012345678898', ok: true },
    { name: 'rows = distinct keys and dates', expected: String(p.targetRows), actual: String(p.targetRows), ok: true },
  ],
  stepMs: { prepare: 11, insert: 48, validate: 31, backup: 9, swap: 17, cleanup: 6 },
});

/** Every partition of the plan done through the loop's bookkeeping, as after the last partition of a run. */
function finishedProgress() {
  const progress = initialProgress(8);
  progress.partitions = plan.map((p) => ({ id: p.id, state: 'pending', salt: p.salt, sourceRows: p.sourceRows }));
  progress.total = plan.length;
  const state = new PartitionLoopState(progress);
  progress.partitions.forEach((entry, i) => {
    state.begin(entry, 1_763_790_000_000 + i * 100);
    state.succeeded(entry, resultOf(plan[i]));
    state.finished(entry, 1_763_790_000_000 + i * 100 + 95);
  });
  return { progress, state };
}

const kib = (value: unknown): number => Buffer.byteLength(JSON.stringify(value)) / 1024;

const carriedPlan: BackfillPlan = {
  source: { database: 'analytics', name: 'events' },
  target: { database: 'analytics', name: 'events_daily' },
  targetCreated: false,
  partitions: plan,
};

describe('payloads of a ten-year daily backfill (3,650 partitions)', () => {
  it('has 3,650 partitions, whose full results would make a payload close to the 2 MB limit', () => {
    expect(plan).toHaveLength(3_650);
    expect(kib(plan.map(resultOf))).toBeGreaterThan(1_800);
  });

  it('the summary it returns stays under 512 KiB (a quarter of the limit) and still sums every check', () => {
    const { progress } = finishedProgress();
    const summary = {
      workflowId: 'backfill-events_daily-2015-01-01-2024-12-28',
      target: 'analytics.events_daily',
      from: '2015-01-01',
      to: '2024-12-28',
      partitions: progress.partitions.flatMap((p) => (p.result ? [p.result] : [])),
      totals: progress.totals,
      failed: [],
      rowsRead: progress.rowsRead,
      rowsWritten: progress.rowsWritten,
      elapsedMs: 365_000,
      backup: 'analytics.events_daily_backup_0123abcd',
    };
    expect(kib(summary)).toBeLessThan(512);
    expect(summary.totals?.checksPassed['rows = distinct keys and dates']).toBe(3_650);
    expect(summary.totals?.stepMs.insert).toBe(3_650 * 48);
  });

  it('the carry on continue-as-new (plan, progress, every partition packed) stays under 512 KiB, early or late', () => {
    const carry = (progress: BackfillProgress) => ({
      plan: { ...carriedPlan, partitions: [] },
      progress: { ...progress, partitions: [] },
      partitions: packPartitions(progress.partitions, plan),
    });
    const fresh = initialProgress(8);
    fresh.partitions = plan.map((p) => ({ id: p.id, state: 'pending', salt: p.salt, sourceRows: p.sourceRows }));
    const { progress, state } = finishedProgress();
    state.compactForCarry();
    expect(kib(carry(fresh))).toBeLessThan(512);
    expect(kib(carry(progress))).toBeLessThan(512);
  });

  it('a packed carry unpacks to the same entries and the pending plans', () => {
    const { progress, state } = finishedProgress();
    state.compactForCarry();
    progress.partitions[3] = { id: plan[3].id, state: 'pending', salt: 1, sourceRows: plan[3].sourceRows };
    progress.partitions[4] = { ...progress.partitions[4], state: 'failed', result: undefined, error: 'rows 1 ≠ 2' };
    const { entries, plans } = unpackPartitions(JSON.parse(JSON.stringify(packPartitions(progress.partitions, plan))));
    expect(entries).toEqual(JSON.parse(JSON.stringify(progress.partitions)));
    expect(plans).toEqual([plan[3]]);
  });
});

describe('the BackfillPartitions search attribute', () => {
  it('lists every partition of half a year of days, and only the first and last of ten years', () => {
    const ids = plan.map((p) => p.id);
    expect(searchablePartitionIds(ids.slice(0, 180))).toEqual(ids.slice(0, 180));
    expect(searchablePartitionIds(ids)).toEqual([ids[0], ids[ids.length - 1]]);
    expect(JSON.stringify(searchablePartitionIds(ids.slice(0, 185))).length).toBeLessThanOrEqual(2_048);
  });
});

describe('the progress of an import of 20,000 files', () => {
  it('stays small with 64 batches running, whatever the paths (files progress is derived, not kept)', () => {
    const files = Array.from({ length: 20_000 }, (_, i) => ({
      path: `bucket/${'deep/'.repeat(800)}part-${i}.parquet`,
      size: 50_000_000,
      etag: '"0123456789abcdef0123456789abcdef"',
      mtime: 1_734_400_000,
    }));
    const batches = fileBatches(files, { maxFiles: 100, maxBytes: 1024 ** 4 });
    const partitions = batches.map((b, i) => ({
      id: b.id,
      state: i < 64 ? ('running' as const) : ('pending' as const),
      salt: 1,
      sourceRows: 0,
    }));
    const progress = { ...initialProgress(64), partitions, total: batches.length };
    const answer = { ...progress, files: filesProgress(batches, partitions) };
    expect(answer.files.current).toHaveLength(64);
    expect(answer.files.files).toBe(20_000);
    // The running batches' first and last file, cut to 200 characters: about 30 KiB over the entries.
    expect(kib(answer.files)).toBeLessThan(40);
    expect(kib(answer)).toBeLessThan(64);
  });
});
