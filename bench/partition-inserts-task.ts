import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { ClickHouse } from '../src/clickhouse/clickhouse';
import { connectClickHouse } from '../src/clickhouse/connect';
import { execWithPeakMemory } from '../src/clickhouse/query-memory';
import type { AggregateJob } from '../src/shared/job-spec';
import { partitionFromId, partitionsCovering } from '../src/shared/partitions';
import { createTargetTable, insertAggregation } from '../src/sql/aggregation';
import { aggregationShape } from '../src/sql/aggregation-shape';
import { createDemoEventsTable, insertDemoEvents, selectEventsDailyDigest } from '../src/sql/demo-events';
import { dropTableIfExists, truncateTable } from '../src/sql/partition-ops';
import { stopMerges } from '../src/sql/part-stats';
import { selectSourcePartitionStats } from '../src/sql/source-stats';
import {
  DEMO,
  DEMO_SCRATCH,
  DEMO_SOURCE,
  type InsertProfile,
  type PartitionInsert,
  type PartitionInsertsReply,
  type PartitionInsertsTask,
  type ProfileRun,
} from './partition-inserts';

async function seed(ch: ClickHouse, rows: number): Promise<number> {
  await ch.exec({ query: 'CREATE DATABASE IF NOT EXISTS {db:Identifier}', params: { db: DEMO.database } });
  await ch.exec(createDemoEventsTable(DEMO_SOURCE));
  const started = performance.now();
  await ch.exec(insertDemoEvents(DEMO_SOURCE, DEMO.start, DEMO.months, rows));
  return performance.now() - started;
}

/**
 * Each partition's INSERT as the partition step's build runs it (`insertAggregation` with the job's settings, into
 * an emptied table shaped like the target), with the salt the plan computes (`selectSourcePartitionStats`, then
 * ceil(largest key's rows / chunkSize)). Source merges are stopped first, so that every profile and every size
 * reads the parts as seeded, with no background merge competing for the cores.
 */
async function measure(
  ch: ClickHouse,
  probe: ClickHouse,
  job: AggregateJob,
  profile: InsertProfile,
): Promise<ProfileRun> {
  const shape = aggregationShape(job);
  await ch.exec(stopMerges(DEMO_SOURCE));
  await ch.exec(dropTableIfExists(DEMO_SCRATCH));
  await ch.exec(createTargetTable(shape, DEMO_SOURCE, DEMO_SCRATCH));
  const covered = partitionsCovering(DEMO.from, DEMO.to, job.partitionBy);
  const range = { start: covered[0].start, end: covered[covered.length - 1].end };
  const stats = await ch.rows(selectSourcePartitionStats(shape, DEMO_SOURCE, range));

  const partitions: PartitionInsert[] = [];
  for (const stat of stats) {
    const bounds = partitionFromId(stat.id, job.partitionBy);
    const salt = Math.max(1, Math.ceil(Number(stat.max_rows_per_key) / job.chunkSize));
    await ch.exec(truncateTable(DEMO_SCRATCH));
    const insert = insertAggregation(shape, DEMO_SOURCE, DEMO_SCRATCH, bounds, salt);
    const started = performance.now();
    const peak = await execWithPeakMemory(ch, probe, insert, {
      queryId: `bench-insert-${randomUUID()}`,
      settings: profile.settings,
    });
    const wallMs = performance.now() - started;
    const [digest] = await ch.rows(selectEventsDailyDigest(DEMO_SCRATCH, stat.id));
    partitions.push({
      partition: stat.id,
      sourceRows: Number(stat.rows),
      salt,
      wallMs,
      peakMemoryBytes: peak?.bytes,
      memorySamples: peak?.samples ?? 0,
      digest,
    });
  }
  await ch.exec(dropTableIfExists(DEMO_SCRATCH));
  return { profile, partitions };
}

/**
 * Child entry: opens the embedded engine on `CLICKHOUSE_DATA_DIR` twice (the second connection reads the running
 * INSERT's memory), runs the one task it is sent, replies and exits, releasing the data directory.
 */
process.once('message', (task: PartitionInsertsTask) => {
  void (async () => {
    const ch = connectClickHouse();
    const probe = connectClickHouse();
    let reply: PartitionInsertsReply;
    try {
      await ch.rows({ query: 'SELECT 1', params: {} });
      await probe.rows({ query: 'SELECT 1', params: {} });
      reply =
        task.kind === 'seed'
          ? { ok: true, seedMs: await seed(ch, task.rows) }
          : { ok: true, run: await measure(ch, probe, task.job, task.profile) };
    } catch (err) {
      reply = { ok: false, error: err instanceof Error ? err.message : String(err) };
    } finally {
      await probe.close();
      await ch.close();
    }
    process.send?.(reply, () => process.exit(0));
  })();
});
