import type { ImportFilesBench } from './import-files-bench';
import { figures, mib, sec, table, type BenchResults } from './report';

/** One target of the issue, measured: PASS/MISS, or undefined when this run could not measure it. */
export interface Target {
  what: string;
  value: string;
  limit: string;
  pass?: boolean;
}

/** The durable backfill's wall time over the sum of the bare per-partition INSERTs (same data, same salts). */
export const OVERHEAD_RATIO_TARGET = 1.15;
/** Time outside the INSERT per partition. */
export const OVERHEAD_PER_PARTITION_TARGET_MS = 100;
/** The many-partitions scenario's pace. */
export const PARTITIONS_PER_SECOND_TARGET = 12;
/** A run's history, in events: Temporal suggests continue-as-new from 4,096 (hard limit 51,200). */
export const HISTORY_EVENTS_TARGET = 10_000;
/** RSS at the end over RSS after the first partitions: "flat". */
export const RSS_GROWTH_TARGET = 1.25;
export const PROGRESS_LATENCY_TARGET_MS = 1_000;
/** A quarter of Temporal's 2 MB payload limit (also Temporal's own warning threshold, 512 KiB). */
export const PAYLOAD_TARGET_BYTES = 512 * 1024;
/** Default settings' INSERT peak over the low-memory settings' one. */
export const LOW_MEMORY_FACTOR_TARGET = 2;
/** Cost growth: rows/s may drop at most to this share, per-query peak memory grow at most by this factor. */
export const GROWTH_RATE_TARGET = 0.8;
export const GROWTH_MEMORY_TARGET = 1.25;
export const WORKER_READY_TARGET_MS = 2_000;
/** The durable view backfill over one bare INSERT … SELECT of the view's query. */
export const VIEW_RATIO_TARGET = 1.15;
/** The import from files (issue 19) over one bare INSERT … SELECT from the same files. */
export const IMPORT_FILES_RATIO_TARGET = 1.15;

const kib = (bytes: number): string => `${(bytes / 1024).toFixed(0)} KiB`;

/** Every target of issue 10 (and the view ratio of issue 8) as measured in this run. */
export function benchTargets(results: BenchResults): Target[] {
  const a = figures(results.runs[0], results.raw, results.sourceRows);
  const { probe } = results;
  const ratio = a.wallMs / probe.insertPlannedSaltMs;
  const targets: Target[] = [
    {
      what: '1. durable backfill / Σ bare per-partition INSERTs (same salts, fast validation)',
      value: `${ratio.toFixed(3)} (${sec(a.wallMs)} / ${sec(probe.insertPlannedSaltMs)})`,
      limit: `≤ ${OVERHEAD_RATIO_TARGET}`,
      pass: ratio <= OVERHEAD_RATIO_TARGET,
    },
    {
      what: '1. time outside the INSERT per partition ((a) − Σ its insert steps) / partitions',
      value: sec(a.overheadPerPartitionMs),
      limit: `≤ ${sec(OVERHEAD_PER_PARTITION_TARGET_MS)}`,
      pass: a.overheadPerPartitionMs <= OVERHEAD_PER_PARTITION_TARGET_MS,
    },
    {
      what: '1. full validation’s extra cost over fast, share of the INSERT time',
      value: `${(((probe.fullValidationMs - probe.sourceCountMs) / probe.insertPlannedSaltMs) * 100).toFixed(0)} %`,
      limit: 'reported',
    },
  ];
  const m = results.manyPartitions;
  if (!m) targets.push({ what: '2. many partitions', value: 'skipped (BENCH_SCALE=0)', limit: '' });
  else {
    const scaled = `${m.partitions} partitions, parallelism ${m.parallelism}`;
    const rssGrowth = m.rssAtFirstMarkBytes ? m.rssAtEndBytes / m.rssAtFirstMarkBytes : undefined;
    targets.push(
      {
        what: `2. partitions per second (${scaled})`,
        value: m.partitionsPerSec.toFixed(1),
        limit: `≥ ${PARTITIONS_PER_SECOND_TARGET}`,
        pass: m.partitionsPerSec >= PARTITIONS_PER_SECOND_TARGET,
      },
      {
        what: '2. longest history of a run (continue-as-new)',
        value: `${m.maxHistoryEvents.toLocaleString('en-US')} events, ${m.runs} runs`,
        limit: `≤ ${HISTORY_EVENTS_TARGET.toLocaleString('en-US')}`,
        pass: m.maxHistoryEvents <= HISTORY_EVENTS_TARGET,
      },
      {
        what: `2. worker RSS after ${m.firstMark} partitions → at the end`,
        value:
          m.rssAtFirstMarkBytes === undefined
            ? 'not read'
            : `${mib(m.rssAtFirstMarkBytes)} → ${mib(m.rssAtEndBytes)} (×${rssGrowth?.toFixed(2)})`,
        limit: `≤ ×${RSS_GROWTH_TARGET}`,
        pass: rssGrowth === undefined ? undefined : rssGrowth <= RSS_GROWTH_TARGET,
      },
      {
        what: `2. progress query, slowest of ${m.progressQueries} answers`,
        value: `${sec(m.progressMaxMs)}${m.progressFailures ? `, ${m.progressFailures} failed (${m.progressFailure})` : ''}`,
        limit: `< ${sec(PROGRESS_LATENCY_TARGET_MS)}`,
        pass: m.progressMaxMs < PROGRESS_LATENCY_TARGET_MS && m.progressFailures === 0,
      },
      {
        what: '2. largest payload (histories of every run; result)',
        value: `${kib(m.maxPayloadBytes)}; ${kib(m.resultBytes)}`,
        limit: `≤ ${kib(PAYLOAD_TARGET_BYTES)}`,
        pass: Math.max(m.maxPayloadBytes, m.resultBytes) <= PAYLOAD_TARGET_BYTES,
      },
    );
  }
  const [normal, low] = results.memory.runs;
  const factor = normal?.peakBytes && low?.peakBytes ? normal.peakBytes / low.peakBytes : undefined;
  targets.push({
    what: '3. the INSERT’s own peak memory, default / low-memory settings',
    value:
      factor === undefined
        ? 'not caught running'
        : `${mib(normal.peakBytes ?? 0)} / ${mib(low.peakBytes ?? 0)} = ×${factor.toFixed(2)}`,
    limit: `≥ ×${LOW_MEMORY_FACTOR_TARGET}`,
    pass: factor === undefined ? undefined : factor >= LOW_MEMORY_FACTOR_TARGET,
  });
  const previous = results.previous;
  if (!previous) {
    targets.push({
      what: '4. cost growth with 10× the rows',
      value: 'no run of another BENCH_ROWS saved yet',
      limit: '',
    });
  } else {
    const current = {
      rows: results.sourceRows,
      rowsPerSec: a.rowsPerSec,
      peakQueryBytes: normal?.peakBytes,
      lowMemoryPeakBytes: low?.peakBytes,
    };
    const [small, large] = previous.rows < current.rows ? [previous, current] : [current, previous];
    const rateShare = large.rowsPerSec / small.rowsPerSec;
    const rows = (n: number): string => `${(n / 1e6).toFixed(0)} M`;
    const grown = (from?: number, to?: number): string =>
      from && to ? `${mib(from)} → ${mib(to)} (×${(to / from).toFixed(2)})` : 'not caught running';
    const lowGrowth =
      small.lowMemoryPeakBytes && large.lowMemoryPeakBytes
        ? large.lowMemoryPeakBytes / small.lowMemoryPeakBytes
        : undefined;
    if (previous.overheadRatio !== undefined) {
      targets.push({
        what: `1. the same at ${rows(previous.rows)} rows (saved run of ${previous.at.slice(0, 10)})`,
        value: previous.overheadRatio.toFixed(3),
        limit: `≤ ${OVERHEAD_RATIO_TARGET}`,
        pass: previous.overheadRatio <= OVERHEAD_RATIO_TARGET,
      });
    }
    targets.push(
      {
        what: `4. durable backfill rows/s, ${rows(small.rows)} → ${rows(large.rows)} rows`,
        value: `${Math.round(small.rowsPerSec).toLocaleString('en-US')} → ${Math.round(large.rowsPerSec).toLocaleString('en-US')} (×${rateShare.toFixed(2)})`,
        limit: `≥ ×${GROWTH_RATE_TARGET}`,
        pass: rateShare >= GROWTH_RATE_TARGET,
      },
      {
        what: `4. largest INSERT’s own peak memory, low-memory settings, ${rows(small.rows)} → ${rows(large.rows)}`,
        value: grown(small.lowMemoryPeakBytes, large.lowMemoryPeakBytes),
        limit: `≤ ×${GROWTH_MEMORY_TARGET}`,
        pass: lowGrowth === undefined ? undefined : lowGrowth <= GROWTH_MEMORY_TARGET,
      },
      {
        what: `4. the same with default settings (the hash table holds every key: grows with them)`,
        value: grown(small.peakQueryBytes, large.peakQueryBytes),
        limit: 'reported',
      },
    );
  }
  const readyMs = results.workerStart.medianMs;
  targets.push({
    what: `5. compiled worker (node dist/bin/worker.js) ready to take tasks, median of ${results.workerStart.msToReady.length} starts`,
    value: sec(readyMs),
    limit: `≤ ${sec(WORKER_READY_TARGET_MS)}`,
    pass: readyMs <= WORKER_READY_TARGET_MS,
  });
  const view = results.viewBackfill;
  if (!view) targets.push({ what: 'issue 8. view backfill / bare INSERT … SELECT', value: 'skipped', limit: '' });
  else {
    const viewRatio = view.fillMs / view.bareInsertMs;
    targets.push({
      what: `issue 8. durable view backfill (fill) / bare INSERT … SELECT, ${view.rows.toLocaleString('en-US')} rows`,
      value:
        `${viewRatio.toFixed(3)} (${sec(view.fillMs)} / ${sec(view.bareInsertMs)}; whole run ${sec(view.wallMs)})` +
        (view.agrees ? '' : ', TARGETS DIFFER'),
      limit: `≤ ${VIEW_RATIO_TARGET}`,
      pass: viewRatio <= VIEW_RATIO_TARGET,
    });
    const steps = Object.entries(view.stepMsPerPartition)
      .filter(([step]) => step !== 'insert')
      .map(([step, ms]) => `${step} ${sec(ms ?? 0)}`)
      .join(', ');
    targets.push({
      what: `issue 21. the view fill's fixed steps per partition (${view.partitions} partitions)`,
      value: `${steps}; outside the INSERT ${sec(view.outsideInsertMsPerPartition)}`,
      limit: 'reported',
    });
  }
  const files = results.importFiles;
  targets.push(
    files
      ? importFilesTarget(files)
      : { what: 'issue 19. import from files / bare INSERT … SELECT', value: 'skipped', limit: '' },
  );
  return targets;
}

/** Issue 19's target: the import's rows/s against one bare INSERT … SELECT from the same files. */
export function importFilesTarget(b: ImportFilesBench): Target {
  const ratio = b.importMs / b.bareMs;
  const rate = (ms: number) => Math.round(b.rows / (ms / 1000)).toLocaleString('en-US');
  return {
    what:
      `issue 19. import from ${b.files} Parquet files (${b.batches} batch(es)) / bare INSERT … SELECT, ` +
      `${b.rows.toLocaleString('en-US')} rows`,
    value: `${ratio.toFixed(3)} (${sec(b.importMs)}, ${rate(b.importMs)} rows/s / ${sec(b.bareMs)}, ${rate(b.bareMs)} rows/s)`,
    limit: `≤ ${IMPORT_FILES_RATIO_TARGET}`,
    pass: ratio <= IMPORT_FILES_RATIO_TARGET,
  };
}

/** The targets as a table with PASS/MISS next to each. */
export function renderTargets(targets: Target[]): string {
  return [
    'Targets (issue 10; noisy on a shared machine):',
    table(
      ['target', 'measured', 'limit', ''],
      targets.map((t) => [t.what, t.value, t.limit, t.pass === undefined ? '' : t.pass ? 'PASS' : 'MISS']),
    ),
  ].join('\n');
}
