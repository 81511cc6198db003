import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import type { Client } from '@temporalio/client';
import type { BackfillSummary, PartitionStep } from '../src/shared/backfill-results';
import type { AggregateJob } from '../src/shared/job-spec';
import { latestProgress } from '../src/cli/latest-progress';
import { startBenchWorker } from './bench-worker';

/** What the many-partitions scenario measured. */
export interface ManyPartitionsResults {
  partitions: number;
  parallelism: number;
  rowsRead: number;
  wallMs: number;
  partitionsPerSec: number;
  /** Runs of the backfill (1 + continue-as-new) and the longest history among them, in events. */
  runs: number;
  maxHistoryEvents: number;
  /** The worker's RSS once `firstMark` partitions were done, and once all were. */
  firstMark: number;
  rssAtFirstMarkBytes?: number;
  rssAtEndBytes: number;
  workerPeakRssBytes: number;
  workerReadyMs: number;
  /** `progress` queries sent while the backfill ran, their slowest and median answers, the largest answer. */
  progressQueries: number;
  progressFailures: number;
  /** Why the first failed `progress` query failed. */
  progressFailure?: string;
  progressMaxMs: number;
  /** Where the backfill stood when the slowest answer was asked for: partitions done, and runs before this one. */
  progressSlowestAt?: { done: number; continuedAsNew: number };
  progressMedianMs: number;
  progressMaxBytes: number;
  /** The largest payload in any of the backfill's runs' histories, where it was, and the result's size. */
  maxPayloadBytes: number;
  maxPayloadWhere: string;
  resultBytes: number;
  /** The partitions' step timers, summed (how much of the wall the engine's queries take). */
  stepMs: Partial<Record<PartitionStep, number>>;
  /**
   * CPU time used during the backfill, per partition: the worker process (engine and workflow code), the Temporal
   * dev server, and this bench process (its client and `progress` queries). Undefined where it cannot be read.
   */
  cpuMsPerPartition: { worker: number; server?: number; bench: number };
}

/** CPU time (user + system) of process `pid` so far, from /proc (Linux); undefined elsewhere. */
function processCpuMs(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th, in clock ticks.
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
  } catch {
    return undefined;
  }
}

const benchCpuMs = (): number => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
};

type Events = NonNullable<Awaited<ReturnType<ReturnType<Client['workflow']['getHandle']>['fetchHistory']>>['events']>;

/** The largest payload (`{ metadata, data }`) anywhere in `events`, with the event type it sits in. */
function largestPayload(events: Events): { bytes: number; where: string } {
  let best = { bytes: 0, where: '' };
  const walk = (value: unknown, where: string): void => {
    if (value === null || typeof value !== 'object') return;
    if (value instanceof Uint8Array) return;
    const record = value as Record<string, unknown>;
    if (record.data instanceof Uint8Array && 'metadata' in record) {
      if (record.data.byteLength > best.bytes) best = { bytes: record.data.byteLength, where };
      return;
    }
    for (const inner of Object.values(record)) walk(inner, where);
  };
  for (const event of events) {
    const where = Object.keys(event).find((k) => k.endsWith('EventAttributes') && event[k as keyof typeof event]);
    walk(event, where ?? 'event');
  }
  return best;
}

const median = (xs: number[]): number => {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted.length ? sorted[Math.floor(sorted.length / 2)] : 0;
};

/**
 * A day-partitioned backfill of `from`..`to` (3,650 days at full scale) in one workflow with `job.parallelism`
 * partitions at once, served by a worker of its own. While it runs, the `progress` query is sent every 250 ms and
 * timed; the worker's RSS is read once `firstMark` partitions are done and at the end, and the CPU time of the
 * worker, the Temporal server and the bench itself over the backfill. Afterwards every run's history is read for
 * its length and its largest payload.
 */
export async function runManyPartitions(
  client: Client,
  workerEnv: Record<string, string>,
  job: AggregateJob,
  range: { from: string; to: string; partitions: number },
  serverPid: number | undefined,
  log: (message: string) => void,
  verbose: boolean,
): Promise<ManyPartitionsResults> {
  const worker = await startBenchWorker(workerEnv, verbose, client);
  const cpuBefore = { worker: (await worker.usage()).cpuMs, server: processCpuMs(serverPid), bench: benchCpuMs() };
  const firstMark = Math.min(100, Math.max(1, Math.floor(range.partitions / 4)));
  log(
    `many partitions: ${range.partitions} daily partitions ${range.from}..${range.to}, parallelism ${job.parallelism}`,
  );
  const started = performance.now();
  const handle = await client.workflow.start('backfillWorkflow', {
    taskQueue: worker.taskQueue,
    workflowId: `bench-many-${randomUUID()}`,
    args: [{ job, from: range.from, to: range.to }],
  });
  let finished = false;
  const result = handle.result().finally(() => {
    finished = true;
  }) as Promise<BackfillSummary>;
  const latencies: number[] = [];
  let slowestAt: ManyPartitionsResults['progressSlowestAt'];
  let failures = 0;
  let firstFailure: string | undefined;
  let maxBytes = 0;
  let rssAtFirstMark: number | undefined;
  let lastLogged = 0;
  while (!finished) {
    const asked = performance.now();
    const progress = await latestProgress(handle).catch((err: unknown) => {
      firstFailure ??= err instanceof Error ? err.message : String(err);
      return undefined;
    });
    if (!progress) failures++;
    else {
      const ms = performance.now() - asked;
      if (ms > Math.max(0, ...latencies)) slowestAt = { done: progress.done, continuedAsNew: progress.continuedAsNew };
      latencies.push(ms);
      maxBytes = Math.max(maxBytes, JSON.stringify(progress).length);
      if (rssAtFirstMark === undefined && progress.done >= firstMark) rssAtFirstMark = (await worker.usage()).rssBytes;
      if (progress.done - lastLogged >= Math.max(100, range.partitions / 10)) {
        lastLogged = progress.done;
        log(
          `many partitions: ${progress.done}/${progress.total} after ${((performance.now() - started) / 1000).toFixed(1)} s`,
        );
      }
    }
    await Promise.race([result.catch(() => undefined), new Promise((r) => setTimeout(r, 250))]);
  }
  const summary = await result;
  const wallMs = performance.now() - started;
  const serverCpuMs = processCpuMs(serverPid);
  const atEnd = await worker.usage();
  const done = summary.partitions.length;
  const cpuMsPerPartition = {
    worker: (atEnd.cpuMs - cpuBefore.worker) / done,
    server:
      serverCpuMs === undefined || cpuBefore.server === undefined ? undefined : (serverCpuMs - cpuBefore.server) / done,
    bench: (benchCpuMs() - cpuBefore.bench) / done,
  };
  const workerPeakRssBytes = await worker.stop();

  const runs = [];
  for await (const run of client.workflow.list({ query: `WorkflowId = '${handle.workflowId}'` })) runs.push(run);
  let maxHistoryEvents = 0;
  let payload = { bytes: 0, where: '' };
  for (const run of runs) {
    const events = (await client.workflow.getHandle(handle.workflowId, run.runId).fetchHistory()).events ?? [];
    maxHistoryEvents = Math.max(maxHistoryEvents, events.length);
    const largest = largestPayload(events);
    if (largest.bytes > payload.bytes) payload = largest;
  }
  return {
    partitions: summary.partitions.length,
    parallelism: job.parallelism,
    rowsRead: summary.rowsRead,
    wallMs,
    partitionsPerSec: summary.partitions.length / (wallMs / 1000),
    runs: runs.length,
    maxHistoryEvents,
    firstMark,
    rssAtFirstMarkBytes: rssAtFirstMark,
    rssAtEndBytes: atEnd.rssBytes,
    workerPeakRssBytes,
    workerReadyMs: worker.readyMs,
    progressQueries: latencies.length + failures,
    progressFailures: failures,
    progressFailure: firstFailure,
    progressMaxMs: Math.max(0, ...latencies),
    progressSlowestAt: slowestAt,
    progressMedianMs: median(latencies),
    progressMaxBytes: maxBytes,
    maxPayloadBytes: payload.bytes,
    maxPayloadWhere: payload.where,
    resultBytes: JSON.stringify(summary).length,
    stepMs: summary.totals.stepMs,
    cpuMsPerPartition,
  };
}
