import type { LoadThresholds } from './load-thresholds';

/** One reading of the cluster's load signals, as `checkClusterLoad` takes it. */
export interface LoadSample {
  runningQueries: number;
  maxQueryMemoryBytes: number;
  activeMerges: number;
  pendingMutations: number;
  /** The fullest partition of the source or target, `db.table/partition_id` and its active parts. */
  maxPartsPerPartition: number;
  fullestPartition?: string;
  backgroundPoolTasks: number;
  delayedInserts: number;
  memoryTrackingBytes: number;
  /**
   * On a self-managed cluster, each host's own reading (the fields above are then each signal's largest over the
   * hosts): the verdict is taken host by host. Absent elsewhere, and in samples recorded before.
   */
  hosts?: HostLoad[];
}

/** One host's reading on a self-managed cluster. */
export type HostLoad = Omit<LoadSample, 'hosts'> & { host: string };

export interface LoadVerdict {
  overloaded: boolean;
  /** Every signal over its threshold, named with its value and limit, e.g. `parts per partition 412 > 300 (…)`. */
  reason?: string;
  /** The names of the signals over their thresholds (`parts per partition`, …): a metric's label. */
  signals?: string[];
}

/** Decides from one sample whether the cluster is too busy for the next heavy step. Pure: no I/O. */
export function assessLoad(sample: LoadSample, t: LoadThresholds): LoadVerdict {
  if (!t.enabled) return { overloaded: false };
  if (sample.hosts?.length) {
    // The worst host: the one with the most signals over their thresholds (the first by name on a tie).
    const verdicts = sample.hosts.map((h) => ({ host: h.host, verdict: assessLoad(h, t) }));
    const worst = verdicts.reduce((a, b) =>
      (b.verdict.signals?.length ?? 0) > (a.verdict.signals?.length ?? 0) ? b : a,
    );
    if (!worst.verdict.overloaded) return { overloaded: false };
    const others = verdicts.filter((v) => v !== worst && v.verdict.overloaded).map((v) => v.host);
    return {
      ...worst.verdict,
      reason:
        `on ${worst.host}: ${worst.verdict.reason}` +
        (others.length ? ` (also over a threshold: ${others.join(', ')})` : ''),
    };
  }
  const checks: [string, number, number | undefined, string?][] = [
    ['running queries', sample.runningQueries, t.maxRunningQueries],
    ['largest query memory bytes', sample.maxQueryMemoryBytes, t.maxQueryMemoryBytes],
    ['active merges', sample.activeMerges, t.maxActiveMerges],
    ['pending mutations on the target', sample.pendingMutations, t.maxPendingMutations],
    ['parts per partition', sample.maxPartsPerPartition, t.maxPartsPerPartition, sample.fullestPartition],
    ['BackgroundMergesAndMutationsPoolTask', sample.backgroundPoolTasks, t.maxBackgroundPoolTasks],
    ['DelayedInserts', sample.delayedInserts, t.maxDelayedInserts],
    ['MemoryTracking bytes', sample.memoryTrackingBytes, t.maxMemoryTrackingBytes],
  ];
  const over = checks.filter(([, value, limit]) => limit !== undefined && value > limit);
  if (over.length === 0) return { overloaded: false };
  return {
    overloaded: true,
    reason: over
      .map(([name, value, limit, where]) => `${name} ${value} > ${limit}${where ? ` (${where})` : ''}`)
      .join('; '),
    signals: over.map(([name]) => name),
  };
}
