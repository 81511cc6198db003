import type { BackfillPlan, PartitionPlan, PartitionResult } from '../../src/shared/backfill-results';
import { partitionsCovering } from '../../src/shared/partitions';
import { searchablePartitionIds } from '../../src/shared/search-attributes';
import { initialProgress, type BackfillProgress } from '../../src/shared/progress';
import { packPartitions, unpackPartitions } from '../../src/workflows/engine/carried-partitions';
import { PartitionLoopState } from '../../src/workflows/engine/partition-loop-state';
import { fileBatches } from '../../src/activities/import/plan-file-import';
import { filesProgress } from '../../src/shared/import-files-progress';
import type { ClickHouse } from '../../src/clickhouse/clickhouse';
import type { Statement } from '../../src/clickhouse/statement';
import { fileListHash, listBatchFiles, stageBatchFiles } from '../../src/activities/import/staged-batch-files';
import { importBatchTask } from '../../src/shared/import-batch-task';
import type { ImportPlan } from '../../src/shared/import-input';
import { importJobSchema } from '../../src/shared/job-spec';

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

describe('an import of 20,000 listed files: the plan stages its file lists', () => {
  const files = Array.from({ length: 20_000 }, (_, i) => ({
    path: `pypi-exports/2024/${String(i % 366).padStart(3, '0')}/file-${String(i).padStart(6, '0')}-${'x'.repeat(60)}.parquet`,
    size: 4_000_000 + i,
    etag: `"${(i * 2654435761).toString(16).padStart(32, '0')}"`,
    mtime: 1_734_400_000 + i,
  }));
  const target = { database: 'web', name: 'pypi' };
  const job = importJobSchema.parse({
    kind: 'import',
    name: 'pypi_history',
    target: { table: 'web.pypi', timeColumn: 'timestamp' },
    source: { s3: 'https://bucket.s3.amazonaws.com/pypi-exports/2024/*/*.parquet' },
  });

  /** A stand-in for the engine that keeps what the plan stages and answers a batch's read from it. */
  function stagingEngine() {
    const staged: Statement[] = [];
    const ch = {
      exec: async (s: Statement) => void staged.push(s),
      rows: async (s: Statement) => {
        if (s.query.includes('system.tables')) return [{ present: 1 }];
        const p = s.params as { plan: string; batch: string };
        return staged.flatMap((st) => {
          const q = st.params as Record<string, unknown[]> & { plan?: string };
          if (!st.query.startsWith('INSERT') || q.plan !== p.plan) return [];
          return (q.batch_ids as string[]).flatMap((b, i) =>
            b === p.batch ? [{ path: q.paths[i], size: String(q.sizes[i]), etag: q.etags[i], mtime: q.mtimes[i] }] : [],
          );
        });
      },
    };
    return { ch: ch as unknown as ClickHouse, staged };
  }

  async function stagedPlan(maxFiles = job.fileBatches.maxFiles) {
    const engine = stagingEngine();
    const batches = fileBatches(files, { ...job.fileBatches, maxFiles });
    const reader = { fn: 's3' as const, path: (job.source as { s3: string }).s3, format: 'Parquet' };
    const { staged, batches: small } = await stageBatchFiles(engine.ch, target, batches);
    const plan: ImportPlan = {
      source: { database: 's3', name: reader.path },
      target,
      checkpoint: 1_734_426_000_000_000,
      partitionKey: 'toYYYYMM(timestamp)',
      columns: ['timestamp', 'project'],
      views: [],
      targets: [],
      batches: small,
      files: { reader, files: files.length, bytes: 0, alreadyLoaded: 0, changed: [], staged },
    };
    return { plan, batches, engine };
  }

  /** What the import carries on continue-as-new: the plan, the progress, every batch packed. */
  const carryOf = (plan: ImportPlan) => {
    const progress = initialProgress(8);
    progress.partitions = plan.batches.map((b) => ({ id: b.id, state: 'pending', salt: 1, sourceRows: 0 }));
    return {
      plan,
      progress: { ...progress, partitions: [] },
      partitions: packPartitions(progress.partitions, plan.batches),
    };
  };

  it('returns a plan and a carry under 512 KiB with the default 100 files a batch (the lists alone: over 2 MB)', async () => {
    const { plan, batches, engine } = await stagedPlan();
    expect(kib(batches.flatMap((b) => b.files))).toBeGreaterThan(2_048);
    expect(plan.batches).toHaveLength(200);
    expect(plan.batches.every((b) => b.files === undefined && b.fileCount === 100)).toBe(true);
    expect(kib(plan)).toBeLessThan(128);
    expect(kib(carryOf(plan))).toBeLessThan(512);
    // Staged at most a thousand files per statement, every file once.
    const inserts = engine.staged.filter((s) => s.query.startsWith('INSERT'));
    expect(inserts).toHaveLength(20);
    expect(inserts.reduce((n, s) => n + (s.params as { paths: string[] }).paths.length, 0)).toBe(20_000);
  });

  it('grows with batches, not files: 1,000 batches of 20 files carry under 1 MiB (half the limit)', async () => {
    const { plan } = await stagedPlan(20);
    expect(plan.batches).toHaveLength(1_000);
    expect(kib(carryOf(plan))).toBeLessThan(1_024);
  });

  it('a batch task names its staged list; every step reads back exactly the plan’s files, or fails', async () => {
    const { plan, batches, engine } = await stagedPlan(20);
    const task = importBatchTask(job, plan, plan.batches[517], 'w1');
    expect(kib(task)).toBeLessThan(8);
    expect(task.build.files).toMatchObject({
      staged: { batch: 'f0518', count: 20, hash: fileListHash(batches[517].files ?? []) },
    });
    const listed = await listBatchFiles(engine.ch, task);
    expect(listed.build.files?.list).toEqual(batches[517].files);
    const files = task.build.files as { staged: { hash: string } };
    const tampered = {
      ...task,
      build: { ...task.build, files: { ...files, staged: { ...files.staged, hash: '0'.repeat(64) } } },
    };
    await expect(listBatchFiles(engine.ch, tampered as typeof task)).rejects.toThrow(/not what the plan staged/);
    const other = {
      ...task,
      build: { ...task.build, files: { ...files, staged: { ...files.staged, plan: 'another-plan' } } },
    };
    await expect(listBatchFiles(engine.ch, other as typeof task)).rejects.toThrow(/is gone: start the import again/);
  });
});
