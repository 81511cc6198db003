import { type HostLoad, type LoadSample } from '../../shared/load-assessment';
import { selectClusterLoad, selectClusterLoadPerHost, type HostLoadRow } from '../../sql/engine/cluster-load';
import type { ActivityDeps } from './deps';
import type { TableRef } from '../../shared/table-ref';
import type { ServerProfile } from '../../shared/server-profile';
import { dialectOf } from '../../sql/engine/server-dialect';

/**
 * Reads the cluster's load signals for a backfill from `source` into `target`, through the control pool so that a
 * worker whose builds fill the main pool still gets its answer; on every replica where `server` has several.
 * Durability: read-only and quick; the workflow decides and waits (with durable timers), never this activity.
 */
export function checkClusterLoad({ clickhouse: ch }: ActivityDeps) {
  return async function checkClusterLoad(tables: {
    source: TableRef;
    target: TableRef;
    /** The plan's server profile; absent: the embedded engine (or a workflow started before plans kept one). */
    server?: ServerProfile;
  }): Promise<LoadSample> {
    const dialect = dialectOf(tables.server);
    if (dialect.loadPerHost)
      return loadPerHost(await ch.control.rows(selectClusterLoadPerHost(tables.source, tables.target, dialect)));
    const [row] = await ch.control.rows(selectClusterLoad(tables.source, tables.target, dialect));
    const parts = Number(row.fullest[0]);
    return {
      runningQueries: Number(row.running_queries),
      maxQueryMemoryBytes: Number(row.max_query_memory),
      activeMerges: Number(row.active_merges),
      pendingMutations: Number(row.pending_mutations),
      maxPartsPerPartition: parts,
      fullestPartition: parts > 0 ? row.fullest[1] : undefined,
      backgroundPoolTasks: Number(row.pool_tasks),
      delayedInserts: Number(row.delayed_inserts),
      memoryTrackingBytes: Number(row.memory_tracking),
    };
  };
}

/** The numeric signals of a sample. */
type SignalField = Exclude<keyof LoadSample, 'hosts' | 'fullestPartition'>;

const SIGNAL_FIELDS: Record<Exclude<HostLoadRow['signal'], 'fullest'>, SignalField> = {
  running_queries: 'runningQueries',
  max_query_memory: 'maxQueryMemoryBytes',
  active_merges: 'activeMerges',
  pending_mutations: 'pendingMutations',
  pool_tasks: 'backgroundPoolTasks',
  delayed_inserts: 'delayedInserts',
  memory_tracking: 'memoryTrackingBytes',
};

const EMPTY_SAMPLE: Record<SignalField, number> = {
  runningQueries: 0,
  maxQueryMemoryBytes: 0,
  activeMerges: 0,
  pendingMutations: 0,
  maxPartsPerPartition: 0,
  backgroundPoolTasks: 0,
  delayedInserts: 0,
  memoryTrackingBytes: 0,
};

/**
 * Per-host rows folded into one sample per host (a signal a host has no row for reads as 0), and a sample whose
 * own fields are each signal's largest reading over the hosts (what progress shows), with `hosts` for the
 * comparison `assessLoad` makes host by host.
 */
export function loadPerHost(rows: HostLoadRow[]): LoadSample {
  const byHost = new Map<string, HostLoad>();
  for (const row of rows) {
    const sample = byHost.get(row.host) ?? { host: row.host, ...EMPTY_SAMPLE };
    byHost.set(row.host, sample);
    const value = Number(row.value);
    if (row.signal === 'fullest') {
      sample.maxPartsPerPartition = value;
      if (value > 0) sample.fullestPartition = `${row.place} on ${row.host}`;
    } else sample[SIGNAL_FIELDS[row.signal]] = value;
  }
  const hosts = [...byHost.values()].sort((a, b) => a.host.localeCompare(b.host));
  const largest = (field: SignalField) => Math.max(0, ...hosts.map((h) => h[field]));
  const fullest = hosts.reduce<HostLoad | undefined>(
    (a, h) => (h.maxPartsPerPartition > (a?.maxPartsPerPartition ?? 0) ? h : a),
    undefined,
  );
  return {
    runningQueries: largest('runningQueries'),
    maxQueryMemoryBytes: largest('maxQueryMemoryBytes'),
    activeMerges: largest('activeMerges'),
    pendingMutations: largest('pendingMutations'),
    maxPartsPerPartition: largest('maxPartsPerPartition'),
    fullestPartition: fullest?.fullestPartition,
    backgroundPoolTasks: largest('backgroundPoolTasks'),
    delayedInserts: largest('delayedInserts'),
    memoryTrackingBytes: largest('memoryTrackingBytes'),
    hosts,
  };
}
