import { randomUUID } from 'node:crypto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { createActivities } from '../../src/activities';
import type { BackfillPlan, PartitionPlan } from '../../src/shared/backfill-results';
import { progressQuery } from '../../src/shared/messages';
import type { BackfillProgress } from '../../src/shared/progress';
import { rollbackInputSchema, type RollbackInputRaw } from '../../src/shared/rollback-input';
import { partitionsPerShard } from '../../src/shared/shard-partitions';
import { workflowBundle } from '../helpers/backfill-harness';
import { quiet, quietLoad, serverError } from '../helpers/cluster-faults';
import { recordedProfile } from '../helpers/recorded-profile';
import { progressUntil } from '../helpers/progress-until';
import { scriptedShardedCluster, type RoutedStatement } from '../helpers/sharded-cluster';
import { createTestTemporal } from '../helpers/temporal-env';
import { aggregateJob, PARTITION } from '../helpers/topology-jobs';

/**
 * Per-(partition, shard) status, retry and rollback on a sharded cluster (docs/clusters.md, "One shard's swap
 * failing"): the real backfill, partition and rollback workflows on the Temporal dev server, their real partition
 * activities against a scripted two-shard cluster (recorded profile `sharded-cluster`: Atomic database,
 * `Distributed` source and target over `main`), each statement recorded with the client it went through (the
 * worker's own, or the one of a shard). The plan, the load sample and the rollback's profile read are simulated.
 */
const server = recordedProfile('sharded-cluster');
const JANUARY = PARTITION.id;
const plan = (): BackfillPlan => ({
  source: { database: 'default', name: 'events' },
  target: { database: 'default', name: 'events_daily' },
  targetCreated: false,
  sourceHasParts: true,
  server,
  partitions: partitionsPerShard([{ ...PARTITION } satisfies PartitionPlan], server.sharding!.shards),
});
const states = (p: BackfillProgress) => p.partitions.map((x) => [x.id, x.state]);
const ledgerRows = (sent: RoutedStatement[]) =>
  sent.filter((s) => /^INSERT INTO \{ledger_db/.test(s.query)).map((s) => String(s.params.partition));
const swapsOn = (sent: RoutedStatement[]) =>
  sent.filter((s) => /REPLACE PARTITION/.test(s.query) && s.params.target === 'events_daily_local').map((s) => s.on);

describe('a sharded cluster: status, retry and rollback per (partition, shard)', () => {
  let env: TestWorkflowEnvironment;
  const taskQueue = `sharded-${randomUUID()}`;
  const cluster = scriptedShardedCluster(server);

  beforeAll(async () => {
    env = await createTestTemporal();
  });
  afterAll(() => env?.teardown());

  /** Runs `body` with a worker whose activities run against the scripted sharded cluster. */
  async function withWorker<T>(body: () => Promise<T>): Promise<T> {
    const worker = await Worker.create({
      connection: env.nativeConnection,
      namespace: env.namespace ?? 'default',
      taskQueue,
      workflowBundle: await workflowBundle(),
      activities: {
        ...createActivities({ clickhouse: cluster.ch, log: quiet, shardClient: cluster.shardClient }),
        planBackfill: () => Promise.resolve(plan()),
        checkDailyReadiness: () => Promise.resolve({ ready: true, check: 'scripted', seen: 'ready' }),
        planDay: () =>
          Promise.resolve({
            source: plan().source,
            target: plan().target,
            partition: { ...PARTITION },
            server,
            shards: plan().partitions,
            sourceHasParts: true,
          }),
        checkClusterLoad: () => Promise.resolve(quietLoad),
        resolveRollbackInput: (raw: RollbackInputRaw) => Promise.resolve({ ...rollbackInputSchema.parse(raw), server }),
      },
    });
    return worker.runUntil(body);
  }

  it('shard 2 failing for good: status shows 202401 replaced on shard 1 and failed on shard 2; --only failed retries shard 2 alone; rollback restores shard 1 alone', async () => {
    await withWorker(async () => {
      // 1. The backfill: shard 2's swap fails for good (a non-retryable server error), shard 1's goes through.
      cluster.set((s, on) =>
        on === 'shard 2' && /REPLACE PARTITION/.test(s.query)
          ? { error: serverError(122, 'INCOMPATIBLE_COLUMNS', 'Tables have different structure on ch-s2-r1') }
          : undefined,
      );
      const first = await env.client.workflow.start('backfillWorkflow', {
        taskQueue,
        workflowId: `sharded-${randomUUID()}`,
        args: [{ job: aggregateJob, from: '2024-01-01', to: '2024-01-31' }],
      });
      await progressUntil(first, (p) => p.failed === 1, 'shard 2 failed');
      const outcome = await first.result().catch((err: unknown) => err);
      cluster.set(undefined);
      expect(outcome).toMatchObject({
        cause: {
          message: expect.stringMatching(/^1 of 2 partitions failed: 202401@2 \(.*different structure on ch-s2-r1/),
        },
      });
      const progress = await first.query(progressQuery);
      expect(states(progress)).toEqual([
        [`${JANUARY}@1`, 'swapped'],
        [`${JANUARY}@2`, 'failed'],
      ]);
      expect(progress.backup).toMatch(/^default\.events_daily_local_backup_\w{8}$/);
      expect(swapsOn(cluster.sent)).toEqual(['shard 1']);
      expect(ledgerRows(cluster.sent)).toEqual([`${JANUARY}@1`]);
      // Each shard's part ran under its own lock, on its own shadow, dropped when it failed.
      const shadows = cluster.sent
        .filter((s) => /^DROP TABLE/.test(s.query))
        .map((s) => [s.on, String(s.params.table).replace(/_\w{8}$/, '')]);
      expect(shadows).toEqual(
        expect.arrayContaining([
          ['shard 1', 'events_daily_local_v2_202401_s1'],
          ['shard 2', 'events_daily_local_v2_202401_s2'],
        ]),
      );

      // 2. --only failed: what `ch-backfill retry-failed` starts, with the failed list of the summary.
      cluster.sent.length = 0;
      const retry = await env.client.workflow.start('backfillWorkflow', {
        taskQueue,
        workflowId: `sharded-retry-${randomUUID()}`,
        args: [
          {
            job: aggregateJob,
            from: '2024-01-01',
            to: '2024-01-31',
            only: 'failed',
            partitions: [`${JANUARY}@2`],
            retryOf: first.workflowId,
          },
        ],
      });
      await retry.result();
      expect(states(await retry.query(progressQuery))).toEqual([[`${JANUARY}@2`, 'swapped']]);
      expect(swapsOn(cluster.sent)).toEqual(['shard 2']);
      expect(new Set(cluster.sent.map((s) => s.on))).toEqual(new Set(['main', 'shard 2']));
      expect(ledgerRows(cluster.sent)).toEqual([`${JANUARY}@2`]);

      // 3. Rollback of the first backfill: what it swapped (shard 1's part) is restored on shard 1 alone.
      cluster.sent.length = 0;
      const swapped = progress.partitions.filter((p) => p.state === 'swapped');
      const rollback = await env.client.workflow.start('rollbackWorkflow', {
        taskQueue,
        workflowId: `sharded-rollback-${randomUUID()}`,
        args: [
          {
            backfill: first.workflowId,
            job: aggregateJob,
            target: progress.target!,
            backup: progress.backup!,
            partitions: swapped.map((p) => ({ id: p.id, rows: p.result?.backupRows ?? 0 })),
          },
        ],
      });
      const summary = await rollback.result();
      expect(summary.partitions).toEqual([{ partition: `${JANUARY}@1`, rows: 10, emptied: false }]);
      const restore = cluster.sent.find((s) =>
        /ATTACH PARTITION .* FROM `default`\.`events_daily_local_backup_/.test(s.query),
      );
      expect(restore?.on).toBe('shard 1');
      expect(swapsOn(cluster.sent)).toEqual(['shard 1']);
      expect(new Set(cluster.sent.map((s) => s.on))).toEqual(new Set(['main', 'shard 1']));
    });
  });

  it("a daily run loads its day on each shard in turn: the shard's live partition copied, the day re-aggregated from its local source, swapped there, one ledger row per shard", async () => {
    await withWorker(async () => {
      cluster.sent.length = 0;
      const daily = await env.client.workflow.start('dailyIncrementalWorkflow', {
        taskQueue,
        workflowId: `sharded-daily-${randomUUID()}`,
        args: [{ job: aggregateJob, date: '2024-01-10', timezone: 'UTC' }],
      });
      const result = await daily.result();
      expect(result).toMatchObject({ day: '2024-01-10', partition: JANUARY });
      expect(states(await daily.query(progressQuery))).toEqual([
        [`${JANUARY}@1`, 'swapped'],
        [`${JANUARY}@2`, 'swapped'],
      ]);
      expect(swapsOn(cluster.sent)).toEqual(['shard 1', 'shard 2']);
      expect(ledgerRows(cluster.sent)).toEqual([`${JANUARY}@1`, `${JANUARY}@2`]);
      // Each shard's shadow starts as that shard's live partition, then its day is re-aggregated from the local
      // source: both on that shard.
      for (const shard of [1, 2]) {
        const on = cluster.sent.filter((s) => s.on === `shard ${shard}`).map((s) => s.query);
        const copy = on.findIndex((q) =>
          /ATTACH PARTITION ID \{partition_id:String\} FROM `default`\.`events_daily_local`/.test(q),
        );
        const insert = on.findIndex((q) => /^INSERT INTO \{into_db/.test(q));
        expect(copy).toBeGreaterThanOrEqual(0);
        expect(insert).toBeGreaterThan(copy);
      }
      const fills = cluster.sent.filter((s) => /^INSERT INTO \{into_db/.test(s.query));
      expect(fills.map((s) => [s.on, s.params.source])).toEqual([
        ['shard 1', 'events_local'],
        ['shard 2', 'events_local'],
      ]);
    });
  });
});
