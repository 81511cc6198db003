import type { BackfillSummary, PartitionStep } from '../src/shared/backfill-results';
import type { HistoryTimings } from './history-timings';
import type { WorkerStartResult } from './worker-start';
import type { ManyPartitionsResults } from './many-partitions';
import type { InsertMemoryResult, ProbeResult, RawInsertResult } from './messages';
import { renderNullEngineReport, type NullEngineResults } from './null-engine-fill';
import { benchTargets, renderTargets } from './targets';
import type { ImportFilesBench } from './import-files-bench';
import type { ViewBackfillBench } from './view-backfill-bench';

const STEPS: PartitionStep[] = ['prepare', 'insert', 'validate', 'backup', 'swap', 'cleanup'];

/** One full backfill through Temporal, run by its own worker process. */
export interface TemporalRun {
  label: string;
  settings: Record<string, number>;
  wallMs: number;
  history: HistoryTimings;
  summary: BackfillSummary;
  /** From the worker process's fork to its polling. */
  workerReadyMs: number;
  workerReadyRssBytes: number;
  workerPeakRssBytes: number;
}

export interface RawRun extends RawInsertResult {
  settings: Record<string, number>;
  peakRssBytes: number;
}

export interface BenchResults {
  sourceRows: number;
  seedMs: number;
  runs: TemporalRun[];
  raw: RawRun;
  probe: ProbeResult;
  /** Each settings variant's largest INSERT peak (the INSERT's own memory tracker). */
  memory: InsertMemoryResult;
  mismatches: string[];
  nullEngine?: NullEngineResults;
  manyPartitions?: ManyPartitionsResults;
  /** `BENCH_SCALE` of the many-partitions scenario. */
  scale: number;
  viewBackfill?: ViewBackfillBench;
  /** The import from files (issue 19); undefined when `BENCH_IMPORT_ROWS=0`. */
  importFiles?: ImportFilesBench;
  /** The compiled worker's time to ready (`npm run build`, then `node dist/bin/worker.js`). */
  workerStart: WorkerStartResult;
  /** The last results of another row count, for the cost-growth comparison. */
  previous?: GrowthPoint;
}

/** What one row count's run keeps for the cost-growth comparison of a later run. */
export interface GrowthPoint {
  rows: number;
  /** The durable backfill (default settings): source rows per second. */
  rowsPerSec: number;
  /** The largest INSERT's own peak memory with default settings, and with the low-memory ones. */
  peakQueryBytes?: number;
  lowMemoryPeakBytes?: number;
  /** Partitions (six months) and the bare INSERTs' rows per second. */
  partitions: number;
  insertRowsPerSec: number;
  /** Target 1's ratio in that run (absent in runs saved before it was kept). */
  overheadRatio?: number;
  at: string;
}

/** This run's {@link GrowthPoint}. */
export function growthPoint(results: BenchResults): GrowthPoint {
  const [a] = results.runs;
  return {
    rows: results.sourceRows,
    rowsPerSec: results.sourceRows / (a.wallMs / 1000),
    peakQueryBytes: results.memory.runs[0]?.peakBytes,
    lowMemoryPeakBytes: results.memory.runs[1]?.peakBytes,
    partitions: a.summary.partitions.length,
    insertRowsPerSec: results.sourceRows / (results.probe.insertPlannedSaltMs / 1000),
    overheadRatio: a.wallMs / results.probe.insertPlannedSaltMs,
    at: new Date().toISOString(),
  };
}

const ORCHESTRATION_LABELS = {
  activitiesOutsideStepTimers: 'partition activities outside their step timers',
  childrenOutsideActivities: 'partition workflows outside their activities',
  firstWorkflowTask: "parent's first workflow task (the worker has served one workflow)",
  parentOutsideChildren: 'parent outside plan and children (start, load checks, gaps, result)',
};

const sumStep = (run: TemporalRun, step: PartitionStep): number => run.summary.totals.stepMs[step] ?? 0;

/** The figures the issue asks for, for one Temporal run against the raw INSERT. */
export function figures(run: TemporalRun, raw: RawRun, sourceRows: number) {
  const partitions = run.summary.partitions.length;
  const steps = Object.fromEntries(STEPS.map((s) => [s, sumStep(run, s)])) as Record<PartitionStep, number>;
  const stepsTotal = STEPS.reduce((n, s) => n + steps[s], 0);
  const h = run.history;
  const orchestrationMs = {
    activitiesOutsideStepTimers: h.childActivitiesMs - stepsTotal,
    childrenOutsideActivities: h.childrenMs - h.childActivitiesMs,
    firstWorkflowTask: h.firstWorkflowTaskMs,
    parentOutsideChildren: run.wallMs - h.childrenMs - h.planMs - h.firstWorkflowTaskMs,
  };
  return {
    label: run.label,
    settings: run.settings,
    wallMs: run.wallMs,
    ratio: run.wallMs / raw.insertMs,
    workerReadyMs: run.workerReadyMs,
    rowsPerSec: sourceRows / (run.wallMs / 1000),
    partitions,
    salts: run.summary.partitions.map((p) => p.salt),
    overheadPerPartitionMs: (run.wallMs - steps.insert) / partitions,
    stepTotalsMs: { plan: h.planMs, ...steps },
    orchestrationMs,
    activityRetries: h.childActivityRetries,
    rowsWritten: run.summary.rowsWritten,
    workerReadyRssBytes: run.workerReadyRssBytes,
    workerPeakRssBytes: run.workerPeakRssBytes,
  };
}

export const sec = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;
export const mib = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(0)} MiB`;
export const rate = (rowsPerSec: number): string => `${Math.round(rowsPerSec).toLocaleString('en-US')} rows/s`;
const settingsText = (s: Record<string, number>): string =>
  Object.entries(s)
    .map(([k, v]) => `${k}=${v}`)
    .join(', ');

export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
  return [line(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line)].join('\n');
}

/** The human-readable report: results, targets, where the time goes, memory. */
export function renderReport(results: BenchResults): string {
  const { raw, probe, sourceRows } = results;
  const all = results.runs.map((r) => figures(r, raw, sourceRows));
  const [a] = all;
  const per = (ms: number): string => `${sec(ms)} (${sec(ms / a.partitions)}/partition)`;
  const main = table(
    ['measure', 'value'],
    [
      ['source rows', sourceRows.toLocaleString('en-US')],
      ['partitions (salts)', `${a.partitions} (${a.salts.join(', ')})`],
      [`(a) Temporal backfill, ${a.label}`, `${sec(a.wallMs)}, ${rate(a.rowsPerSec)}`],
      ['Σ bare INSERT per partition, same salts', `${sec(probe.insertPlannedSaltMs)}`],
      [
        '(b) raw INSERT … SELECT … GROUP BY, whole range',
        `${sec(raw.insertMs)}, ${rate(sourceRows / (raw.insertMs / 1000))}`,
      ],
      ['ratio a/b', a.ratio.toFixed(3)],
      [
        'rows written (a) / (b)',
        `${a.rowsWritten.toLocaleString('en-US')} / ${raw.rowsWritten.toLocaleString('en-US')}`,
      ],
      ['per-partition totals of every target agree', results.mismatches.length === 0 ? 'yes' : 'NO'],
    ],
  );
  const steps = table(
    ['where the time of (a) goes', ...all.map((f) => f.label)],
    [
      ...Object.keys(a.stepTotalsMs).map((step) => [
        `step: ${step}`,
        ...all.map((f) => per(f.stepTotalsMs[step as keyof typeof f.stepTotalsMs])),
      ]),
      ...Object.keys(a.orchestrationMs).map((what) => [
        `temporal: ${ORCHESTRATION_LABELS[what as keyof typeof a.orchestrationMs]}`,
        ...all.map((f) => per(f.orchestrationMs[what as keyof typeof f.orchestrationMs])),
      ]),
      ['wall', ...all.map((f) => per(f.wallMs))],
      ['partition activity retries (failures and backoffs above)', ...all.map((f) => String(f.activityRetries))],
    ],
  );
  const gapRows = Object.entries(results.runs[0].history.childGapsMs)
    .sort((x, y) => y[1] - x[1])
    .slice(0, 10)
    .map(([between, ms]) => [between, per(ms)]);
  const childGaps = table([`partition workflows of (a) ${a.label}: between events`, 'time'], gapRows);
  const memory = table(
    ['process', 'settings', 'wall', 'RSS when ready', 'peak RSS'],
    [
      ...all.map((f) => [
        `worker, (a) ${f.label}`,
        settingsText(f.settings),
        `${sec(f.wallMs)} (ratio ${f.ratio.toFixed(3)})`,
        mib(f.workerReadyRssBytes),
        mib(f.workerPeakRssBytes),
      ]),
      ['raw INSERT child, (b)', settingsText(raw.settings), sec(raw.insertMs), '', mib(raw.peakRssBytes)],
    ],
  );
  const queries = table(
    ['query outside the INSERT, timed alone', 'time'],
    [
      ['plan: per-partition stats with approx_top_count, whole range', sec(probe.planStatsMs)],
      ['fast validation: source count(), all partitions', per(probe.sourceCountMs)],
      ['full validation: source distinct keys and metric totals, all partitions', per(probe.fullValidationMs)],
      ['partition totals of the target (×4 per partition in the run), all partitions', per(probe.partitionTotalsMs)],
      ['bare INSERT per partition, planned salts, summed', per(probe.insertPlannedSaltMs)],
      ['bare INSERT per partition, salt 1, summed', per(probe.insertUnsaltedMs)],
    ],
  );
  const insertMemory = table(
    ['bare INSERTs of the partitions', 'settings', 'Σ wall', 'largest INSERT’s own peak memory'],
    results.memory.runs.map((r) => [
      r.label,
      settingsText(r.settings),
      sec(r.insertMs),
      r.peakBytes === undefined ? 'not caught running' : `${mib(r.peakBytes)} (${r.source}, ${r.samples} samples)`,
    ]),
  );
  return [
    renderTargets(benchTargets(results)),
    '',
    main,
    '',
    'Where the time of (a) goes (step timers from the summary, the rest from workflow histories; children run one at a time):',
    steps,
    '',
    childGaps,
    '',
    'Memory:',
    memory,
    '',
    insertMemory,
    'An INSERT’s own peak memory is its memory tracker (ClickHouse’s "Peak memory usage"). The embedded engine has ' +
      'no system.query_log: the figure is the highest peak_memory_usage of the query in system.processes, read ' +
      'every 25 ms from a second connection (it misses at most the last interval’s growth). Process RSS is mostly ' +
      'chDB’s caches and does not follow one query.',
    '',
    queries,
    ...(results.manyPartitions ? ['', renderManyPartitions(results.manyPartitions, results.scale)] : []),
    ...(results.mismatches.length > 0 ? ['', 'Mismatches:', ...results.mismatches] : []),
    ...(results.nullEngine ? ['', renderNullEngineReport(results.nullEngine)] : []),
  ].join('\n');
}

/** The many-partitions scenario's figures. */
function renderManyPartitions(m: ManyPartitionsResults, scale: number): string {
  return [
    `Many partitions (BENCH_SCALE=${scale}): ${m.partitions.toLocaleString('en-US')} daily partitions, ` +
      `parallelism ${m.parallelism}, ${m.rowsRead.toLocaleString('en-US')} source rows:`,
    table(
      ['measure', 'value'],
      [
        ['wall, partitions/s', `${sec(m.wallMs)}, ${m.partitionsPerSec.toFixed(1)} partitions/s`],
        ['runs (continue-as-new), longest history', `${m.runs}, ${m.maxHistoryEvents.toLocaleString('en-US')} events`],
        [
          `worker RSS after ${m.firstMark} partitions / at the end / peak`,
          `${m.rssAtFirstMarkBytes === undefined ? '?' : mib(m.rssAtFirstMarkBytes)} / ${mib(m.rssAtEndBytes)} / ${mib(m.workerPeakRssBytes)}`,
        ],
        [
          'progress query: answers (failed), median, slowest, largest',
          `${m.progressQueries} (${m.progressFailures}), ${sec(m.progressMedianMs)}, ${sec(m.progressMaxMs)}` +
            (m.progressSlowestAt
              ? ` (at ${m.progressSlowestAt.done} done, run ${m.progressSlowestAt.continuedAsNew + 1})`
              : '') +
            `, ${(m.progressMaxBytes / 1024).toFixed(0)} KiB`,
        ],
        ['largest payload in the histories', `${(m.maxPayloadBytes / 1024).toFixed(0)} KiB (${m.maxPayloadWhere})`],
        ['result', `${(m.resultBytes / 1024).toFixed(0)} KiB`],
        [
          'step timers per partition (engine queries, serial in chDB)',
          Object.entries(m.stepMs)
            .map(([step, ms]) => `${step} ${((ms ?? 0) / m.partitions).toFixed(0)} ms`)
            .join(', '),
        ],
        [
          'CPU per partition: worker (engine + workflows), Temporal server, bench (client, progress)',
          [m.cpuMsPerPartition.worker, m.cpuMsPerPartition.server, m.cpuMsPerPartition.bench]
            .map((ms) => (ms === undefined ? '?' : `${ms.toFixed(0)} ms`))
            .join(', '),
        ],
      ],
    ),
  ].join('\n');
}

/** The same results as one JSON object, for machines. */
export function reportJson(results: BenchResults): Record<string, unknown> {
  const all = results.runs.map((r) => figures(r, results.raw, results.sourceRows));
  const [a] = all;
  return {
    bench: 'backfill',
    sourceRows: results.sourceRows,
    seedMs: results.seedMs,
    temporal: all,
    raw: { ...results.raw, rowsPerSec: results.sourceRows / (results.raw.insertMs / 1000) },
    ratio: a.ratio,
    overheadPerPartitionMs: a.overheadPerPartitionMs,
    targets: benchTargets(results),
    probe: results.probe,
    memory: results.memory,
    mismatches: results.mismatches,
    nullEngine: results.nullEngine,
    manyPartitions: results.manyPartitions,
    viewBackfill: results.viewBackfill,
    importFiles: results.importFiles,
    previous: results.previous,
  };
}
