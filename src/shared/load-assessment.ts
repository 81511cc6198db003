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
}

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
