import path from 'node:path';
import { count, markdownTable, mib, passOrMiss, ratio, rowsPerSec, seconds } from './format';
import {
  inexactPartitions,
  insertProfiles,
  measureDemoRun,
  peakOfRun,
  PROFILE,
  rowsPerSecond,
  runOf,
  type DemoRun,
  type PartitionInsert,
  type ProfileRun,
} from './partition-inserts';
import { runStandalone } from './standalone';

/**
 * Target 3 of issue 10, memory you can tune: the peak memory of the aggregate backfill's INSERT query itself, per
 * partition, under the engine's defaults, the guide's settings alone, and the low-memory `insertSettings`, on the
 * bench's demo data. The figure is the query's own memory tracker (src/clickhouse/query-memory.ts), not the RSS.
 */

/** How many times less the low-memory INSERTs must peak at than the defaults' ones. */
export const MEMORY_RATIO_TARGET = 2;

export interface InsertMemoryVerdict {
  /** The highest per-query peak of a profile's INSERTs: what the backfill needs at most. */
  defaultPeakBytes?: number;
  lowMemoryPeakBytes?: number;
  /** defaultPeakBytes / lowMemoryPeakBytes; undefined when either was not read. */
  ratio?: number;
  /** Partitions whose low-memory INSERT did not write exactly what the default one wrote. */
  inexact: string[];
  pass: boolean;
}

/** Pass: the low-memory INSERTs peak at most at half of what the default ones do, and write the same rows. */
export function evaluateInsertMemory(run: DemoRun): InsertMemoryVerdict {
  const defaults = runOf(run, PROFILE.defaults);
  const lowMemory = runOf(run, PROFILE.lowMemory);
  const defaultPeakBytes = peakOfRun(defaults);
  const lowMemoryPeakBytes = peakOfRun(lowMemory);
  const less = defaultPeakBytes !== undefined && lowMemoryPeakBytes ? defaultPeakBytes / lowMemoryPeakBytes : undefined;
  const inexact = inexactPartitions(defaults, lowMemory);
  const pass = less !== undefined && less >= MEMORY_RATIO_TARGET && inexact.length === 0;
  return { defaultPeakBytes, lowMemoryPeakBytes, ratio: less, inexact, pass };
}

const settingsText = (settings: object): string =>
  Object.entries(settings)
    .map(([name, value]) => `${name}=${value}`)
    .join(', ') || 'no insertSettings';

const cell = (p: PartitionInsert | undefined): string =>
  p ? `${mib(p.peakMemoryBytes)}, ${seconds(p.wallMs)}` : 'n/a';

/**
 * The report lines: every partition's INSERT under each profile (peak, wall time), the backfill's peak (the highest
 * partition's) with the rows/s of all INSERTs, the verdict, and the settings.
 */
export function renderInsertMemoryReport(run: DemoRun): string[] {
  const defaults = runOf(run, PROFILE.defaults);
  const lowMemory = runOf(run, PROFILE.lowMemory);
  const shown = [defaults, ...run.runs.filter((r) => r !== defaults && r !== lowMemory), lowMemory];
  const verdict = evaluateInsertMemory(run);
  const byPartition = (r: ProfileRun, id: string) => r.partitions.find((p) => p.partition === id);
  const partitionRows = defaults.partitions.map((d) => [
    d.partition,
    count(d.sourceRows),
    String(d.salt),
    ...shown.map((r) => cell(byPartition(r, d.partition))),
    ratio(d.peakMemoryBytes, byPartition(lowMemory, d.partition)?.peakMemoryBytes),
    verdict.inexact.includes(d.partition) ? 'NO' : 'yes',
  ]);
  const backfillRow = [
    'backfill (highest peak, rows/s)',
    count(run.rows),
    '',
    ...shown.map((r) => `${mib(peakOfRun(r))}, ${rowsPerSec(rowsPerSecond(r))}`),
    ratio(verdict.defaultPeakBytes, verdict.lowMemoryPeakBytes),
    verdict.inexact.length === 0 ? 'yes' : 'NO',
  ];
  return [
    `Memory you can tune: peak memory of each partition's aggregate INSERT query itself, and its wall time ` +
      `(${count(run.rows)} demo rows)`,
    ...markdownTable(
      ['partition', 'source rows', 'salt', ...shown.map((r) => r.profile.label), 'defaults / low-memory', 'same rows'],
      [...partitionRows, backfillRow],
    ),
    `low-memory peaks ${ratio(verdict.defaultPeakBytes, verdict.lowMemoryPeakBytes)} lower than the defaults, ` +
      `same rows ${verdict.inexact.length === 0 ? 'in every partition' : `NOT in ${verdict.inexact.join(', ')}`} ` +
      `(target ≥ ${MEMORY_RATIO_TARGET}×, exact): ${passOrMiss(verdict.pass)}`,
    ...shown.map((r) => `${r.profile.label}: ${settingsText(r.profile.settings)}`),
    'Peak: the highest peak_memory_usage of the INSERT in system.processes, read every 25 ms from a second ' +
      'connection (chDB has no system.query_log). Each profile runs in a fresh process, partitions in order.',
  ];
}

/** `npx tsx bench/insert-memory.ts`: seeds `BENCH_ROWS` (default 10 M) demo rows and prints the report. */
async function main(): Promise<void> {
  const rows = Number(process.env.BENCH_ROWS ?? 10_000_000);
  const { defaults, guide, lowMemory } = insertProfiles();
  const dataDir = path.resolve(__dirname, '..', '.data', 'bench-insert-memory');
  const run = await measureDemoRun(dataDir, rows, [defaults, guide, lowMemory], process.env.BENCH_VERBOSE === '1');
  console.log(renderInsertMemoryReport(run).join('\n'));
}

if (require.main === module) runStandalone(main);
