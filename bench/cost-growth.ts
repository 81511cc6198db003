import path from 'node:path';
import { count, markdownTable, mib, passOrMiss, rowsPerSec } from './format';
import {
  inexactPartitions,
  insertProfiles,
  measureDemoRun,
  peakOfRun,
  rowsPerSecond,
  type DemoRun,
} from './partition-inserts';
import { runStandalone } from './standalone';

/**
 * Target 4 of issue 10, cost growth: the per-partition INSERTs of the aggregate backfill on the demo data at two
 * sizes (by default BENCH_ROWS and ten times as many), under each profile: time per row (rows/s over all INSERTs)
 * and the highest per-query peak memory of one partition's INSERT must stay flat as the data grows.
 */

/** How much the larger run may cost more per row, and peak higher, than the smaller one. */
export const GROWTH_TARGET = 1.25;

export interface ProfileGrowth {
  label: string;
  small: { rowsPerSec: number; peakBytes?: number };
  large: { rowsPerSec: number; peakBytes?: number };
  /** Time per row of the large run / of the small run (> 1: costlier per row). */
  timeRatio: number;
  /** Peak per-query memory of the large run / of the small run; undefined if either was not read. */
  memoryRatio?: number;
  timePass: boolean;
  memoryPass: boolean;
  /** Partitions (`size:id`) where this profile wrote other rows than the first profile of that size, or lost events. */
  inexact: string[];
}

/** Per profile (matched by label), how time per row and peak memory grew from `small` to `large`. */
export function evaluateCostGrowth(small: DemoRun, large: DemoRun): ProfileGrowth[] {
  return small.runs.flatMap((smallRun) => {
    const largeRun = large.runs.find((r) => r.profile.label === smallRun.profile.label);
    if (!largeRun) return [];
    const s = { rowsPerSec: rowsPerSecond(smallRun), peakBytes: peakOfRun(smallRun) };
    const l = { rowsPerSec: rowsPerSecond(largeRun), peakBytes: peakOfRun(largeRun) };
    const timeRatio = l.rowsPerSec > 0 ? s.rowsPerSec / l.rowsPerSec : Infinity;
    const memoryRatio = s.peakBytes && l.peakBytes !== undefined ? l.peakBytes / s.peakBytes : undefined;
    const inexact = [
      ...inexactPartitions(small.runs[0], smallRun).map((id) => `${small.rows}:${id}`),
      ...inexactPartitions(large.runs[0], largeRun).map((id) => `${large.rows}:${id}`),
    ];
    return [
      {
        label: smallRun.profile.label,
        small: s,
        large: l,
        timeRatio,
        memoryRatio,
        timePass: timeRatio <= GROWTH_TARGET,
        memoryPass: memoryRatio !== undefined && memoryRatio <= GROWTH_TARGET,
        inexact,
      },
    ];
  });
}

const times = (r: number | undefined): string => (r === undefined || !Number.isFinite(r) ? 'n/a' : `${r.toFixed(2)}×`);
const exactness = (growth: ProfileGrowth[]): string => {
  const inexact = growth.flatMap((g) => g.inexact.map((where) => `${g.label} ${where}`));
  return inexact.length === 0 ? 'yes' : `NO (${inexact.join(', ')})`;
};
const salts = (run: DemoRun): string => run.runs[0]?.partitions.map((p) => p.salt).join(', ') ?? '';

/** The report lines: per profile, both sizes' rows/s and peak, the ratios and PASS/MISS. */
export function renderCostGrowthReport(small: DemoRun, large: DemoRun): string[] {
  const growth = evaluateCostGrowth(small, large);
  const size = (run: DemoRun): string => `${count(run.rows)} rows`;
  return [
    `Cost growth: per-partition INSERTs at ${size(small)} and ${size(large)} (salts ${salts(small)} and ` +
      `${salts(large)}; target: time per row and peak per-query memory of a partition's INSERT each ≤ ` +
      `${GROWTH_TARGET}× at ${count(large.rows / small.rows)}× the data)`,
    ...markdownTable(
      [
        'profile',
        `rows/s, ${size(small)}`,
        `rows/s, ${size(large)}`,
        'time per row',
        `peak, ${size(small)}`,
        `peak, ${size(large)}`,
        'peak memory',
      ],
      growth.map((g) => [
        g.label,
        rowsPerSec(g.small.rowsPerSec),
        rowsPerSec(g.large.rowsPerSec),
        `${times(g.timeRatio)} ${passOrMiss(g.timePass)}`,
        mib(g.small.peakBytes),
        mib(g.large.peakBytes),
        `${times(g.memoryRatio)} ${passOrMiss(g.memoryPass)}`,
      ]),
    ),
    `same rows under every profile at both sizes: ${exactness(growth)}`,
    `seeding: ${size(small)} in ${(small.seedMs / 1000).toFixed(1)} s, ${size(large)} in ` +
      `${(large.seedMs / 1000).toFixed(1)} s`,
  ];
}

/**
 * `npx tsx bench/cost-growth.ts`: seeds `BENCH_ROWS` (default 10 M) and `BENCH_GROWTH_ROWS` (default ten times as
 * many) demo rows, each into its own data directory, measures both profiles on each, prints the report.
 */
async function main(): Promise<void> {
  const smallRows = Number(process.env.BENCH_ROWS ?? 10_000_000);
  const largeRows = Number(process.env.BENCH_GROWTH_ROWS ?? smallRows * 10);
  const verbose = process.env.BENCH_VERBOSE === '1';
  const { defaults, lowMemory } = insertProfiles();
  const measure = (rows: number): Promise<DemoRun> =>
    measureDemoRun(
      path.resolve(__dirname, '..', '.data', `bench-cost-growth-${rows}`),
      rows,
      [defaults, lowMemory],
      verbose,
    );
  const small = await measure(smallRows);
  const large = await measure(largeRows);
  console.log(renderCostGrowthReport(small, large).join('\n'));
}

if (require.main === module) runStandalone(main);
