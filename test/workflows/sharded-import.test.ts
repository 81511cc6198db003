import { randomUUID } from 'node:crypto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { createActivities } from '../../src/activities';
import { importKind } from '../../src/cli/kinds/import';
import type { ImportPlan } from '../../src/shared/import-input';
import { importJobSchema } from '../../src/shared/job-spec';
import { progressQuery } from '../../src/shared/messages';
import type { BackfillProgress } from '../../src/shared/progress';
import { partitionsPerShard } from '../../src/shared/shard-partitions';
import { workflowBundle } from '../helpers/backfill-harness';
import { quiet, quietLoad, serverError } from '../helpers/cluster-faults';
import { recordedProfile } from '../helpers/recorded-profile';
import { progressUntil } from '../helpers/progress-until';
import { scriptedShardedCluster, type RoutedStatement } from '../helpers/sharded-cluster';
import { createTestTemporal } from '../helpers/temporal-env';
import { PARTITION } from '../helpers/topology-jobs';

/**
 * Per-(batch, shard) status of an import from a table on a sharded cluster (docs/clusters.md, "Sharded imports"):
 * the real importWorkflow and partition workflow on the Temporal dev server, their real partition activities
 * against a scripted two-shard cluster (recorded profile `sharded-cluster`: Atomic database, `Distributed` target
 * `default.events` over `default.events_local`), each statement recorded with the client it went through (the
 * worker's own, or the one of a shard). The plan and the load sample are simulated.
 */
const server = recordedProfile('sharded-cluster');
const JANUARY = PARTITION.id;
const job = importJobSchema.parse({
  kind: 'import',
  name: 'events_history',
  target: { table: 'default.events', timeColumn: 'ts' },
  source: { table: 'default.events_history' },
  checkpoint: 'auto',
});
const plan = (): ImportPlan => ({
  source: { database: 'default', name: 'events_history' },
  target: { database: 'default', name: 'events' },
  checkpoint: 1_706_745_600_000_000,
  partitionKey: 'toYYYYMM(ts)',
  columns: ['ts', 'user_id', 'host'],
  views: [],
  targets: [],
  batches: partitionsPerShard(
    [{ ...PARTITION, fromMicros: 1_704_067_200_000_000, toMicros: 1_706_745_600_000_000 }],
    server.sharding!.shards,
  ),
  server,
});
const states = (p: BackfillProgress) => p.partitions.map((x) => [x.id, x.state]);
const isMove = (s: RoutedStatement) =>
  /MOVE PARTITION ID \{partition_id:String\} TO TABLE `default`\.`events_local`/.test(s.query);
const fills = (sent: RoutedStatement[]) => sent.filter((s) => /^INSERT INTO \{into_db/.test(s.query));

describe('a sharded import: status per (batch, shard)', () => {
  let env: TestWorkflowEnvironment;
  const taskQueue = `sharded-import-${randomUUID()}`;
  const cluster = scriptedShardedCluster(server);

  beforeAll(async () => {
    env = await createTestTemporal();
  });
  afterAll(() => env?.teardown());

  it("shard 2's move failing for good: status shows 202401@1 moved on shard 1 alone and 202401@2 failed, shard 2's duplicate kept, holding what shard 2 lacks", async () => {
    const worker = await Worker.create({
      connection: env.nativeConnection,
      namespace: env.namespace ?? 'default',
      taskQueue,
      workflowBundle: await workflowBundle(),
      activities: {
        ...createActivities({ clickhouse: cluster.ch, log: quiet, shardClient: cluster.shardClient }),
        planImport: () => Promise.resolve(plan()),
        checkClusterLoad: () => Promise.resolve(quietLoad),
      },
    });
    await worker.runUntil(async () => {
      cluster.set((s, on) =>
        on === 'shard 2' && /MOVE PARTITION/.test(s.query)
          ? { error: serverError(122, 'INCOMPATIBLE_COLUMNS', 'Tables have different structure on ch-s2-r1') }
          : undefined,
      );
      const run = await env.client.workflow.start('importWorkflow', {
        taskQueue,
        workflowId: `sharded-import-${randomUUID()}`,
        args: [{ job }],
      });
      await progressUntil(run, (p) => p.failed === 1, 'shard 2 failed');
      const outcome = await run.result().catch((err: unknown) => err);
      cluster.set(undefined);
      expect(outcome).toMatchObject({
        cause: {
          message: expect.stringMatching(
            /^1 of 2 partitions failed: 202401@2 \(batch 202401 failed once its move .*different structure on ch-s2-r1/,
          ),
        },
      });
      const progress = await run.query(progressQuery);
      expect(states(progress)).toEqual([
        [`${JANUARY}@1`, 'swapped'],
        [`${JANUARY}@2`, 'failed'],
      ]);
      // Each shard filled its own duplicate with its own rows, through its own client; only shard 1's moved.
      expect(fills(cluster.sent).map((s) => [s.on, s.params.into, s.params.shard_slot_from])).toEqual([
        ['shard 1', expect.stringMatching(/^events_local_v2_202401_s1_/), 0],
        ['shard 2', expect.stringMatching(/^events_local_v2_202401_s2_/), 1],
      ]);
      expect(cluster.sent.filter(isMove).map((s) => s.on)).toEqual(['shard 1']);
      // Shard 1's duplicate dropped after its move; shard 2's kept after the failed move (MoveIncomplete): no DROP
      // of it was sent after its fill.
      const dropsAfterFill = (shard: number) => {
        const on = cluster.sent.filter((s) => s.on === `shard ${shard}`);
        const fill = on.findIndex((s) => /^INSERT INTO \{into_db/.test(s.query));
        return on
          .slice(fill + 1)
          .filter((s) => /^DROP TABLE/.test(s.query))
          .map((s) => String(s.params.table).replace(/_\w{8}$/, ''));
      };
      expect(dropsAfterFill(1)).toEqual(['events_local_v2_202401_s1']);
      expect(dropsAfterFill(2)).toEqual([]);
    });
  });

  it("an import from files runs each batch on each shard: each shard fills its own rows of the batch's files, moves them, records them", async () => {
    const file = { path: 'history/2024-01.parquet', size: 100, etag: '', mtime: 0 };
    const filesPlan = (): ImportPlan => ({
      ...plan(),
      source: { database: 's3', name: 'https://bucket/history/*.parquet' },
      batches: partitionsPerShard(
        [
          {
            ...PARTITION,
            id: 'f0001',
            start: file.path,
            end: file.path,
            fromMicros: 0,
            toMicros: 0,
            files: [file],
            bytes: 100,
          },
        ],
        server.sharding!.shards,
      ),
      files: {
        reader: { fn: 's3', path: 'https://bucket/history/*.parquet', format: 'Parquet' },
        files: 1,
        bytes: 100,
        alreadyLoaded: 0,
        changed: [],
      },
    });
    const filesJob = importJobSchema.parse({
      ...job,
      source: { s3: 'https://bucket/history/*.parquet', format: 'Parquet' },
    });
    const worker = await Worker.create({
      connection: env.nativeConnection,
      namespace: env.namespace ?? 'default',
      taskQueue: `${taskQueue}-files`,
      workflowBundle: await workflowBundle(),
      activities: {
        ...createActivities({ clickhouse: cluster.ch, log: quiet, shardClient: cluster.shardClient }),
        planImport: () => Promise.resolve(filesPlan()),
        checkClusterLoad: () => Promise.resolve(quietLoad),
      },
    });
    await worker.runUntil(async () => {
      cluster.sent.length = 0;
      const run = await env.client.workflow.start('importWorkflow', {
        taskQueue: `${taskQueue}-files`,
        workflowId: `sharded-import-files-${randomUUID()}`,
        args: [{ job: filesJob }],
      });
      await run.result();
      expect(states(await run.query(progressQuery))).toEqual([
        ['f0001@1', 'swapped'],
        ['f0001@2', 'swapped'],
      ]);
      expect(
        fills(cluster.sent).map((s) => [s.on, s.params.into, s.params.batch_files, s.params.shard_slot_from]),
      ).toEqual([
        ['shard 1', expect.stringMatching(/^events_local_v2_f0001_s1_/), [file.path], 0],
        ['shard 2', expect.stringMatching(/^events_local_v2_f0001_s2_/), [file.path], 1],
      ]);
      expect(cluster.sent.filter(isMove).map((s) => s.on)).toEqual(['shard 1', 'shard 2']);
      const recorded = cluster.sent.filter((s) => /^INSERT INTO \{ledger_db/.test(s.query));
      expect(recorded.map((s) => [s.on, s.params.paths, String(s.params.run).replace(/_\w{8}$/, '')])).toEqual([
        ['shard 1', [file.path], 'default.events_local_v2_f0001_s1'],
        ['shard 2', [file.path], 'default.events_local_v2_f0001_s2'],
      ]);
    });
  });

  it('an import from a table has no --only failed: start refuses it, so shard 2 is not rerun alone', () => {
    // What is left after the run above: shard 2's duplicate holds its batch; the operator finishes it by hand
    // (docs/clusters.md, "Sharded imports"). A rerun with `checkpoint: auto` would read min(ts) through the
    // Distributed table, which now includes shard 1's loaded rows, so it would not load shard 2's batch either.
    expect(() => importKind.checkOptions('events.yaml', job, { only: 'failed', retryOf: 'sharded-import-1' })).toThrow(
      'events.yaml is an import job: it loads every history row before its checkpoint',
    );
  });
});
