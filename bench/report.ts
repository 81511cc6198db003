import type { BackfillSummary, PartitionStep } from '../src/shared/backfill-results';
import type { HistoryTimings } from './history-timings';
import type { ProbeResult, RawInsertResult } from './messages';
import { renderNullEngineReport, type NullEngineResults } from './null-engine-fill';

/** Ratio of the Temporal backfill's wall time to the raw INSERT's that the issue asks for. */
export const RATIO_TARGET = 1.1;
/** Time outside the INSERT per partition that the issue allows. */
export const OVERHEAD_TARGET_MS = 300;

const STEPS: PartitionStep[] = ['prepare', 'insert', 'validate', 'backup', 'swap', 'cleanup'];

/** One full backfill through Temporal, run by its own worker process. */
export interface TemporalRun {
  label: string;
  settings: Record<string, number>;
  wallMs: number;
  history: HistoryTimings;
  summary: BackfillSummary;
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
  mismatches: string[];
  nullEngine?: NullEngineResults;
}

const ORCHESTRATION_LABELS = {
  activitiesOutsideStepTimers: 'partition activities outside their step timers',
  childrenOutsideActivities: 'partition workflows outside their activities',
  firstWorkflowTask: "parent's first workflow task (a fresh worker builds its sandbox)",
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

const sec = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;
const mib = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(0)} MiB`;
const rate = (rowsPerSec: number): string => `${Math.round(rowsPerSec).toLocaleString('en-US')} rows/s`;
const verdict = (ok: boolean): string => (ok ? 'PASS' : 'MISS');
const settingsText = (s: Record<string, number>): string =>
  Object.entries(s)
    .map(([k, v]) => `${k}=${v}`)
    .join(', ');

function table(header: string[], rows: string[][]): string {
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
    ['measure', 'value', 'target'],
    [
      ['source rows', sourceRows.toLocaleString('en-US'), ''],
      ['partitions (salts)', `${a.partitions} (${a.salts.join(', ')})`, ''],
      [`(a) Temporal backfill, ${a.label}`, `${sec(a.wallMs)}, ${rate(a.rowsPerSec)}`, ''],
      ['(b) raw INSERT … SELECT … GROUP BY', `${sec(raw.insertMs)}, ${rate(sourceRows / (raw.insertMs / 1000))}`, ''],
      ['ratio a/b', a.ratio.toFixed(3), `≤ ${RATIO_TARGET.toFixed(2)}: ${verdict(a.ratio <= RATIO_TARGET)}`],
      [
        'fixed overhead per partition (a − Σ insert) / partitions',
        sec(a.overheadPerPartitionMs),
        `≤ ${sec(OVERHEAD_TARGET_MS)}: ${verdict(a.overheadPerPartitionMs <= OVERHEAD_TARGET_MS)}`,
      ],
      [
        'rows written (a) / (b)',
        `${a.rowsWritten.toLocaleString('en-US')} / ${raw.rowsWritten.toLocaleString('en-US')}`,
        '',
      ],
      ['per-partition totals of every target agree', results.mismatches.length === 0 ? 'yes' : 'NO', ''],
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
      ['partition totals of the target (×4 per partition in the run), all partitions', per(probe.partitionTotalsMs)],
      ['bare INSERT per partition, planned salts, summed', per(probe.insertPlannedSaltMs)],
      ['bare INSERT per partition, salt 1, summed', per(probe.insertUnsaltedMs)],
    ],
  );
  return [
    main,
    '',
    'Where the time of (a) goes (step timers from the summary, the rest from workflow histories; children run one at a time):',
    steps,
    '',
    'Memory:',
    memory,
    '',
    queries,
    ...(results.mismatches.length > 0 ? ['', 'Mismatches:', ...results.mismatches] : []),
    ...(results.nullEngine ? ['', renderNullEngineReport(results.nullEngine)] : []),
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
    targets: {
      ratio: { target: RATIO_TARGET, pass: a.ratio <= RATIO_TARGET },
      overheadPerPartitionMs: { target: OVERHEAD_TARGET_MS, pass: a.overheadPerPartitionMs <= OVERHEAD_TARGET_MS },
    },
    probe: results.probe,
    mismatches: results.mismatches,
    nullEngine: results.nullEngine,
  };
}
