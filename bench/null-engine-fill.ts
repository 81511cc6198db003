import { cpus } from 'node:os';
import type { QuerySettings } from '../src/clickhouse/clickhouse';
import type { PypiProfile } from '../examples/demo/sql/pypi-demo';
import { forkChild } from './child-process';
import type { OneTaskReply } from './one-task-child';

/**
 * The Null-engine comparison of ClickHouse's "Backfilling data" guide, on generated PyPI-like rows: filling a view
 * target with (i) one plain INSERT … SELECT … GROUP BY, against filling a copy of it through a Null table whose view
 * aggregates each inserted block, (ii) with the engine's defaults, (iii) with one read and one insert thread, (iv) and
 * with 10 MiB insert blocks. The guide reports 639 → 272 → 219 MiB for (ii)–(iv) on its per-hour view. Both views
 * are measured: `pypi_downloads` (per project, few keys) and `pypi_downloads_per_day` (per hour and project, many).
 */

/** The tuning steps of the guide, in its order. */
export const NULL_FILL_VARIANTS: { label: string; settings: QuerySettings }[] = [
  { label: 'Null-engine fill, default settings', settings: {} },
  { label: 'Null-engine fill, one thread', settings: { max_threads: 1, max_insert_threads: 1 } },
  {
    label: 'Null-engine fill, one thread, 10 MiB blocks',
    settings: {
      max_threads: 1,
      max_insert_threads: 1,
      min_insert_block_size_rows: 0,
      min_insert_block_size_bytes: 10_485_760,
      min_insert_block_size_rows_for_materialized_views: 0,
      min_insert_block_size_bytes_for_materialized_views: 10_485_760,
    },
  },
];

/** What the bench sends the child: rows to generate over [start, end). */
export interface NullEngineTask {
  database: string;
  rows: number;
  start: string;
  end: string;
}

/** One timed fill of a downloads-per-project table. */
export interface FillRun {
  label: string;
  settings: Record<string, number>;
  wallMs: number;
  /** The fill query's own peak memory; undefined when it ended before the first reading. */
  peakMemoryBytes?: number;
  memorySource?: 'query_log' | 'sampled';
  memorySamples: number;
  /** Active parts and rows of the target right after the fill (its merges are stopped): one part per block. */
  targetParts: number;
  targetRows: number;
  /** The target holds the same downloads per group as the plain INSERT's. */
  agrees: boolean;
}

/** The plain INSERT and the Null-engine variants of one view target. */
export interface ViewFills {
  title: string;
  runs: FillRun[];
}

/** What the child measured. */
export interface NullEngineResult {
  rows: number;
  seedMs: number;
  profile: PypiProfile;
  views: ViewFills[];
}

export interface NullEngineResults extends NullEngineResult {
  /** The child's peak RSS, shown only to say why it is not the figure: it is mostly chDB's caches. */
  peakRssBytes: number;
}

/** The guide's checkpoint, as the end of the generated range, and a start about 11 weeks before it. */
const START = '2024-10-01 00:00:00';
const END = '2024-12-17 09:00:00';

/**
 * Runs the comparison in a child process of its own on `dataDir` (chDB binds one data directory per process; the
 * child's second connection on it watches the fills' memory).
 */
export async function runNullEngineBench(dataDir: string, rows: number, verbose: boolean): Promise<NullEngineResults> {
  const child = forkChild<OneTaskReply<NullEngineResult>, NullEngineTask>(
    'null-engine-task.ts',
    { CLICKHOUSE_DATA_DIR: dataDir, CLICKHOUSE_URL: '' },
    verbose,
  );
  child.send({ database: 'bench_pypi', rows, start: START, end: END });
  const reply = await child.next();
  await child.exited;
  if (!reply.ok) throw new Error(`Null-engine fill failed: ${reply.error}`);
  return { ...reply.result, peakRssBytes: reply.peakRssBytes };
}

const sec = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;
const mib = (bytes: number | undefined): string =>
  bytes === undefined ? 'n/a' : `${(bytes / 2 ** 20).toFixed(1)} MiB`;
const count = (n: number | string): string => Number(n).toLocaleString('en-US');

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
  return [line(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line)].join('\n');
}

const NUMBERS = ['(i)', '(ii)', '(iii)', '(iv)'];

/** A `X` and `X_for_materialized_views` pair of equal values shown once. */
function settingsText(settings: Record<string, number>): string {
  const names = Object.keys(settings);
  if (names.length === 0) return `engine defaults (max_threads = ${cpus().length} cores)`;
  const suffix = '_for_materialized_views';
  return names
    .filter((name) => !(name.endsWith(suffix) && settings[name.slice(0, -suffix.length)] === settings[name]))
    .map((name) => `${name}${settings[name + suffix] === settings[name] ? `(${suffix})` : ''}=${settings[name]}`)
    .join(', ');
}

/** The comparison as one table per view, with what the memory figure is. */
export function renderNullEngineReport(results: NullEngineResults): string {
  const { profile } = results;
  const rate = (ms: number): string => `${count(Math.round(results.rows / (ms / 1000)))} rows/s`;
  return [
    `Null-engine fill of a view target (the backfilling guide), ${count(results.rows)} PyPI-like rows ` +
      `(${profile.first} … ${profile.last}, ${count(profile.projects)} projects, top project ` +
      `${(profile.top1_share * 100).toFixed(1)} %, top ten ${(profile.top10_share * 100).toFixed(1)} %; ` +
      `generated in ${sec(results.seedMs)}).`,
    ...results.views.flatMap((view) => [
      '',
      `${view.title}:`,
      table(
        ['fill', 'settings', 'wall', 'rows/s', 'peak memory of the query', 'target parts / rows', 'equals (i)'],
        view.runs.map((r, i) => [
          `${NUMBERS[i]} ${r.label}`,
          settingsText(r.settings),
          sec(r.wallMs),
          rate(r.wallMs),
          `${mib(r.peakMemoryBytes)} (${r.memorySamples} samples)`,
          `${count(r.targetParts)} / ${count(r.targetRows)}`,
          r.agrees ? 'yes' : 'NO',
        ]),
      ),
    ]),
    '',
    'Peak memory is the query’s own memory tracker, what ClickHouse prints as "Peak memory usage". chDB has no ' +
      'system.query_log, so it is the highest peak_memory_usage of the query in system.processes, read every 25 ms ' +
      'from a second connection: it misses at most the last interval’s growth. ' +
      `The child's peak RSS, ${mib(results.peakRssBytes)}, is mostly chDB's caches and says nothing about one query. ` +
      'Target parts / rows: right after the fill, merges stopped (a Summing target sums rows within each part).',
  ].join('\n');
}
