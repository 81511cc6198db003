import type { PartitionPlan } from '../../shared/backfill-results';
import { nextDay } from '../../shared/days';
import { describeReadiness } from '../../shared/daily-job';
import { DAILY_DEFAULTS } from '../../shared/daily-defaults';
import type { AggregateJob } from '../../shared/job-spec';
import { partitionOf } from '../../shared/partitions';
import { selectReadiness } from '../../sql/daily/daily-ops';
import type { ActivityDeps } from '../engine/deps';
import { JobSpecError } from '../engine/errors';
import { planBackfill } from '../aggregate/plan-backfill';
import { tableResolver } from '../engine/table-resolver';
import type { TableRef } from '../../shared/table-ref';
import type { ServerProfile, ShardHosts } from '../../shared/server-profile';
import { partitionsPerShard } from '../../shared/shard-partitions';

/** The day's target partition, planned: the tables resolved, the salt sized from the source. */
export interface DayPlan {
  source: TableRef;
  target: TableRef;
  /** The target partition holding the day; its `start`/`end` are the partition's, not the day's. */
  partition: PartitionPlan;
  /** The server as the plan found it, for the day's partition task; absent in histories from before profiles. */
  server?: ServerProfile;
  /**
   * On a sharded cluster: the day's partition once per shard (ids `<partition>@<shard>`, each with its own shard's
   * rows), each run as its own partition task on that shard's local tables, as a backfill's. Absent elsewhere.
   */
  shards?: PartitionPlan[];
  /** With `shards`: the plan's `BackfillPlan.sourceHasParts`, which each shard's task carries as a backfill's does. */
  sourceHasParts?: boolean;
}

export interface DayInput {
  job: AggregateJob;
  day: string;
}

export interface ReadinessResult {
  ready: boolean;
  check: string;
  seen: string;
}

/**
 * The day's partition on each shard (`<partition>@<shard>`), as a sharded plan listed it (its entries are per
 * `(partition, shard)`, each with its own shard's rows); a shard the plan found no rows on gets `empty` (no rows).
 */
export function dayPartitionPerShard(
  planned: PartitionPlan[],
  empty: PartitionPlan,
  shards: ShardHosts[],
): PartitionPlan[] {
  const planOf = new Map(planned.map((p) => [p.id, p]));
  return partitionsPerShard([empty], shards).map((p) => planOf.get(p.id) ?? p);
}

/**
 * Activities of the daily incremental run before it hands the day to the partition workflow (which builds the
 * day's partition in a shadow, checks it and swaps it in through the partition lock).
 */
export function dailySteps(deps: ActivityDeps) {
  const { clickhouse: ch } = deps;
  const plan = planBackfill(deps);
  return {
    /**
     * Checks whether the day's raw data is complete, by the job's structured readiness check.
     * Durability: read-only.
     */
    async checkDailyReadiness({ job, day }: DayInput): Promise<ReadinessResult> {
      const readiness = (job.daily ?? DAILY_DEFAULTS).readiness;
      const source = (await tableResolver(ch))(job.source.table);
      const [row] = await ch.rows(selectReadiness(readiness, source, job.source.timeColumn, nextDay(day)));
      return { ready: Number(row.ready) === 1, check: describeReadiness(readiness), seen: row.seen };
    },

    /**
     * Checks the job against its tables (creating the target when missing) and sizes the salt from the day's
     * partition of the source; on a sharded cluster (where the plan checked the sharding key) also the day's
     * partition per shard. Durability: as `planBackfill`, safe to retry.
     *
     * @throws JobSpecError on a sharded cluster whose profile lists no shards (the plan refuses that first).
     */
    async planDay({ job, day }: DayInput): Promise<DayPlan> {
      const planned = await plan({ job, from: day, to: day });
      const bounds = partitionOf(day, job.partitionBy);
      const empty = { ...bounds, sourceRows: 0, targetRows: 0, maxRowsPerKey: 0, salt: 1 };
      const sharding = planned.server?.topology === 'sharded-cluster' ? planned.server.sharding : undefined;
      if (planned.server?.topology === 'sharded-cluster') {
        if (!sharding?.shards.length)
          throw new JobSpecError('daily', `${job.target.table} is on a sharded cluster whose shards were not read`);
        const shards = dayPartitionPerShard(planned.partitions, empty, sharding.shards);
        const partition = { ...empty, sourceRows: shards.reduce((n, p) => n + p.sourceRows, 0) };
        return {
          source: planned.source,
          target: planned.target,
          partition,
          server: planned.server,
          shards,
          sourceHasParts: planned.sourceHasParts,
        };
      }
      const partition = planned.partitions.find((p) => p.id === bounds.id) ?? empty;
      return { source: planned.source, target: planned.target, partition, server: planned.server };
    },
  };
}
