import { isReplicatedEngine } from '../../clickhouse/engine-family';
import type { ViewJob } from '../../shared/job-spec';
import type { ServerProfile } from '../../shared/server-profile';
import { qualifiedName, type TableRef } from '../../shared/table-ref';
import { JobSpecError } from '../engine/errors';

/**
 * Checks, before any DDL, that a timed view job can run per shard on a sharded cluster, and returns the local
 * tables each shard's live view reads and writes: the source and the target are `Distributed` tables over local
 * tables, the local target exists on every shard as a `Replicated…MergeTree` table (each shard's moves must reach
 * every replica of that shard; the tool creates no target on a cluster). Refused too: a view given as SQL (its text
 * names the `Distributed` source, so each shard's view and fill would read every shard's rows) and the Null-engine
 * fill (`fill: null`, not built per shard yet).
 *
 * @throws JobSpecError naming the field and echoing the value.
 */
export function checkShardedView(
  server: ServerProfile,
  job: ViewJob,
  tables: { source: TableRef; target: TableRef },
): { source: TableRef; target: TableRef } {
  const sharding = server.sharding;
  const way = 'see docs/clusters.md';
  if (job.select !== undefined || job.sql !== undefined) {
    throw new JobSpecError(
      job.select !== undefined ? 'select' : 'sqlFile',
      `a view given as SQL is not supported on sharded cluster ${sharding?.name ?? '?'}: its SELECT names the ` +
        "Distributed source, so each shard's view and fill would read every shard's rows; give it as groupBy + " +
        `aggregates, ${way}`,
    );
  }
  if (job.fill === 'null') {
    throw new JobSpecError(
      'fill',
      `fill: null is not supported on sharded cluster ${sharding?.name ?? '?'} (the Null-engine fill is not built ` +
        `per shard); use fill: ranged, ${way}`,
    );
  }
  const localOf = (table: TableRef, field: string): TableRef => {
    const name = qualifiedName(table);
    const local = sharding?.distributed[name]?.local;
    if (!local) {
      throw new JobSpecError(
        field,
        `the server is a sharded cluster and ${name} is not a Distributed table (engine ` +
          `${server.tableEngines[name] ?? 'unknown'}): a view job there names Distributed tables, each shard's ` +
          `view reading and writing the local ones, ${way}`,
      );
    }
    return local;
  };
  const source = localOf(tables.source, 'source.table');
  const target = localOf(tables.target, 'target.table');
  const name = qualifiedName(target);
  const engine = sharding?.engines[name] ?? server.tableEngines[name] ?? 'missing';
  if (!isReplicatedEngine(/^\w+/.exec(engine)?.[0] ?? '')) {
    throw new JobSpecError(
      'target.table',
      `${name}, behind ${qualifiedName(tables.target)}, is ${engine}: a view job's target on a sharded cluster must ` +
        `exist on every shard as a Replicated…MergeTree table (the tool creates no target on a cluster), ${way}`,
    );
  }
  return { source, target };
}
