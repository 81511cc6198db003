import type { LoadSample } from '../../shared/load-assessment';
import { selectClusterLoad } from '../../sql/engine/cluster-load';
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
    const [row] = await ch.control.rows(selectClusterLoad(tables.source, tables.target, dialectOf(tables.server)));
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
