import { isReplicatedEngine } from '../../clickhouse/engine-family';
import { columnsOf, parseExpression } from '../../shared/expression-syntax';
import type { AggregateJob } from '../../shared/job-spec';
import { versionAtLeast, type ServerProfile } from '../../shared/server-profile';
import { qualifiedName, type TableRef } from '../../shared/table-ref';
import { JobSpecError } from '../engine/errors';

/** `REPLACE PARTITION` from an empty source (`allow_replace_partition_from_empty_source`) exists from 26.6 on. */
const EMPTY_SOURCE_REPLACE = [26, 6] as const;

/** What the job's run on a sharded cluster rests on, in words: printed by the plan when the user states it. */
export const SHARDING_STATED_CONSEQUENCE =
  'sharding.keyFollowsJobKeys: true: each shard aggregates only its own source rows and replaces only its own ' +
  "partition; if a group of the job's keys has rows on two shards, each shard keeps a partial aggregate of it and " +
  'the target, read through its Distributed table, shows that group twice (no check can see it)';

/** The columns a sharding expression reads, or undefined when it is outside the grammar the tool parses. */
function shardingColumns(key: string): string[] | undefined {
  try {
    return columnsOf(parseExpression(key));
  } catch {
    return undefined;
  }
}

/**
 * Checks, before any DDL, that an aggregate job can run per shard on a sharded cluster: its source and target are
 * `Distributed` tables over the same cluster, the local target is a `Replicated…MergeTree` table, and each sharding
 * key reads only columns among the job's keys (a function of them), so every group's source rows live on one shard
 * and a shard's aggregate of its local rows is exact. A key that does not follow the job's keys is refused naming
 * the table, its sharding key and the job's keys, unless the job states `sharding: {keyFollowsJobKeys: true}`;
 * then the consequence is returned for the plan to print. A server older than 26.6 (no REPLACE from an empty
 * source) is refused. Returns nothing off a sharded cluster.
 *
 * @throws JobSpecError naming the field and echoing the value.
 */
export function checkShardedJob(
  profile: ServerProfile,
  job: AggregateJob,
  tables: { source: TableRef; target: TableRef },
): string | undefined {
  if (profile.topology !== 'sharded-cluster') return undefined;
  if (!versionAtLeast(profile, ...EMPTY_SOURCE_REPLACE)) {
    throw new JobSpecError(
      'target.table',
      `ClickHouse ${profile.version} is older than ${EMPTY_SOURCE_REPLACE.join('.')}: a shard's swap of a partition ` +
        'the source no longer has replaces it from the empty shadow (allow_replace_partition_from_empty_source), ' +
        'which that version lacks; upgrade the cluster, see docs/clusters.md',
    );
  }
  const sharding = profile.sharding;
  const named = (role: 'source' | 'target') => {
    const table = qualifiedName(tables[role]);
    const distributed = sharding?.distributed[table];
    if (!distributed) {
      throw new JobSpecError(
        `${role}.table`,
        `the server is a sharded cluster and ${table} is not a Distributed table (engine ` +
          `${profile.tableEngines[table] ?? 'unknown'}): an aggregate job there reads and writes through Distributed ` +
          'tables, each shard its local ones, see docs/clusters.md',
      );
    }
    return { table, ...distributed };
  };
  const source = named('source');
  const target = named('target');
  if (source.cluster !== target.cluster) {
    throw new JobSpecError(
      'target.table',
      `${target.table} spreads over cluster ${target.cluster}, the source ${source.table} over ${source.cluster}: ` +
        'a shard can only aggregate its own source rows into its own target partition when both are on one cluster',
    );
  }
  const localTarget = qualifiedName(target.local);
  const localEngine = /^\w+/.exec(sharding?.engines[localTarget] ?? '')?.[0];
  if (!isReplicatedEngine(localEngine ?? '')) {
    throw new JobSpecError(
      'target.table',
      `${target.table} writes to ${localTarget}, which must exist on every shard as a Replicated…MergeTree table ` +
        `(found ${localEngine ?? 'none'}), see docs/clusters.md`,
    );
  }
  const keys = job.keys;
  for (const { table, shardingKey } of [source, target]) {
    const columns = shardingKey === undefined ? undefined : shardingColumns(shardingKey);
    const follows = columns !== undefined && columns.length > 0 && columns.every((c) => keys.includes(c));
    if (follows) continue;
    if (job.sharding?.keyFollowsJobKeys === true) continue;
    const key = shardingKey ?? '(none)';
    const read = columns === undefined ? 'columns unknown' : `columns ${columns.join(', ') || 'none'}`;
    throw new JobSpecError(
      'sharding.keyFollowsJobKeys',
      `${table} is sharded by ${key} (${read}), which is not a function of the job's keys (${keys.join(', ')}): ` +
        "a group's rows could live on several shards, and each shard's swap would replace it with a partial " +
        "aggregate; shard by the job's keys, or state sharding: {keyFollowsJobKeys: true} if every group's rows " +
        'are on one shard anyway, see docs/clusters.md',
    );
  }
  return job.sharding?.keyFollowsJobKeys === true ? SHARDING_STATED_CONSEQUENCE : undefined;
}

/**
 * `--only changed` on a sharded cluster is refused: its ledger rows are per `(partition, shard)` and carry no
 * source fingerprint (the source has none through its Distributed table), so no partition could be found
 * unchanged and every one would silently be taken.
 *
 * @throws JobSpecError naming `only` and its value.
 */
export function refuseOnlyChangedSharded(profile: ServerProfile, only: string | undefined): void {
  if (profile.topology !== 'sharded-cluster' || only !== 'changed') return;
  throw new JobSpecError(
    'only',
    'changed is not supported on a sharded cluster: its ledger rows are per (partition, shard) and carry no source ' +
      'fingerprint, so every partition would be taken; use --only all, missing or failed, see docs/clusters.md',
  );
}
