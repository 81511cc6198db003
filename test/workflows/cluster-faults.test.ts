import { randomUUID } from 'node:crypto';
import type { WorkflowHandle } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { createActivities, type StepPoint } from '../../src/activities';
import type { BackfillPlan, PartitionPlan } from '../../src/shared/backfill-results';
import { progressQuery } from '../../src/shared/messages';
import { partitionLockId } from '../../src/shared/partition-lock';
import type { BackfillProgress } from '../../src/shared/progress';
import { workflowBundle } from '../helpers/backfill-harness';
import {
  type Fault,
  faultyCluster,
  hostsAnswering,
  isDdlStatus,
  ledgerWrites,
  quiet,
  quietLoad,
  serverError,
} from '../helpers/cluster-faults';
import { recordedProfile } from '../helpers/recorded-profile';
import { progressUntil } from '../helpers/progress-until';
import { createTestTemporal } from '../helpers/temporal-env';
import { aggregateJob, aggregateTask, PARTITION } from '../helpers/topology-jobs';

/**
 * The fault table of docs/clusters.md, one test per row: the real backfill and partition workflows on the Temporal
 * dev server, their real partition activities (build, backup, swap with its per-replica check and ledger record,
 * cleanup) against a scripted replicated cluster (recorded profile `replicated-cluster`: Atomic database, one
 * shard, three replicas) in which a fault is switched on to produce the failure, then off. The plan and the load
 * sample are simulated (they read system tables the script does not answer). What is asserted is what the operator
 * sees: `progress` (what `ch-backfill status` prints), the partition workflow's pending activity with its last
 * failure (the Web UI, `temporal workflow describe partition:…`), the backfill's failure message, and the ledger
 * rows the swaps wrote.
 */
const server = recordedProfile('replicated-cluster');
const task = aggregateTask();
const target = task.target;
const JANUARY = PARTITION.id;
const FEBRUARY = '202402';
const partitionPlan = (id: string, start: string, end: string): PartitionPlan => ({ ...PARTITION, id, start, end });
const plan = (): BackfillPlan => ({
  source: task.source,
  target,
  targetCreated: false,
  sourceHasParts: true,
  server,
  partitions: [partitionPlan(JANUARY, '2024-01-01', '2024-02-01'), partitionPlan(FEBRUARY, '2024-02-01', '2024-03-01')],
});

describe('cluster faults, as the operator sees them (fault table of docs/clusters.md)', () => {
  let env: TestWorkflowEnvironment;
  const taskQueue = `cluster-faults-${randomUUID()}`;

  beforeAll(async () => {
    env = await createTestTemporal();
  });
  afterAll(() => env?.teardown());

  /**
   * Runs a backfill of January and February with `fault` switched on from step point `from` (the
   * start when absent) until `observe` returns; `observe` sees the backfill's handle.
   */
  async function backfillWith(
    fault: Fault,
    observe: (handle: WorkflowHandle, cluster: ReturnType<typeof faultyCluster>) => Promise<void>,
    from?: StepPoint,
  ): Promise<{ progress: BackfillProgress; outcome: unknown; cluster: ReturnType<typeof faultyCluster> }> {
    const cluster = faultyCluster(JANUARY);
    if (!from) cluster.set(fault);
    let armed = !from;
    const onStep = (point: StepPoint) => {
      if (!armed && point === from) {
        armed = true;
        cluster.set(fault);
      }
    };
    const worker = await Worker.create({
      connection: env.nativeConnection,
      namespace: env.namespace ?? 'default',
      taskQueue,
      workflowBundle: await workflowBundle(),
      activities: {
        ...createActivities({ clickhouse: cluster.ch, log: quiet, onStep }),
        planBackfill: () => Promise.resolve(plan()),
        checkClusterLoad: () => Promise.resolve(quietLoad),
      },
    });
    return worker.runUntil(async () => {
      const handle = await env.client.workflow.start('backfillWorkflow', {
        taskQueue,
        workflowId: `cluster-faults-${randomUUID()}`,
        args: [{ job: aggregateJob, from: '2024-01-01', to: '2024-02-29' }],
      });
      await observe(handle, cluster);
      cluster.set(undefined);
      const outcome = await handle.result().catch((err: unknown) => err);
      // Queried while the worker still runs: a closed workflow's query is answered by a worker.
      return { progress: await handle.query(progressQuery), outcome, cluster };
    });
  }

  /** The partition workflow's pending activity once its last failure matches `message`: attempt and message. */
  async function retrying(partition: string, activity: string, message: RegExp) {
    const lock = env.client.workflow.getHandle(partitionLockId(target, partition));
    for (let i = 0; i < 300; i++) {
      const described = await lock.describe().catch(() => undefined);
      const pending = described?.raw.pendingActivities?.find((a) => a.activityType?.name === activity);
      const last = pending?.lastFailure?.message ?? '';
      if (message.test(last)) return { attempt: pending?.attempt ?? 0, message: last };
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`${activity} of ${partition} never retried with ${String(message)}`);
  }

  const states = (p: BackfillProgress) => p.partitions.map((x) => [x.id, x.state]);

  it('replica down before the swap: the cluster-wide sync of the shadow is "not yet", the swap waits, no REPLACE and no ledger row until it answers', async () => {
    const shadowSync = /^SYSTEM SYNC REPLICA ON CLUSTER `main` `default`\.`events_daily_v2_202401_\w+` LIGHTWEIGHT$/;
    const { progress, outcome, cluster } = await backfillWith(
      (s, settings) =>
        shadowSync.test(s.query) && isDdlStatus(settings) ? { rows: hostsAnswering('ch-node-2') } : undefined,
      async (h, cluster) => {
        const seen = await retrying(JANUARY, 'swapPartition', /DDL not finished in time on ch-node-2/);
        expect(seen.attempt).toBeGreaterThanOrEqual(2);
        const progress = await h.query(progressQuery);
        expect(progress.partitions.find((p) => p.id === JANUARY)?.state).toBe('running');
        expect(ledgerWrites(cluster.sent)).not.toContain(JANUARY);
      },
      'backup:kept',
    );
    expect(outcome).toMatchObject({ partitions: expect.any(Array) });
    expect(states(progress)).toEqual([
      [JANUARY, 'swapped'],
      [FEBRUARY, 'swapped'],
    ]);
    // The REPLACE ran once, after a sync every replica answered; the ledger holds each partition once.
    const replaces = cluster.sent.filter((s) => /REPLACE PARTITION/.test(s.query) && s.params.partition_id === JANUARY);
    expect(replaces).toHaveLength(1);
    expect(ledgerWrites(cluster.sent).sort()).toEqual([JANUARY, FEBRUARY]);
  });

  it('replica down after the swap: the per-replica check fails the swap (retried, naming the host) before the ledger records it', async () => {
    const replicaCheck = /hostName\(\) AS host, toString\(count\(\)\) AS rows FROM clusterAllReplicas\('main'/;
    const { progress, cluster } = await backfillWith(
      (s) =>
        replicaCheck.test(s.query) && s.params.partition_id === JANUARY
          ? {
              rows: [
                { host: 'ch-node-1', rows: '10' },
                { host: 'ch-node-3', rows: '10' },
              ],
            }
          : undefined,
      async (_h, cluster) => {
        const seen = await retrying(JANUARY, 'swapPartition', /1 replica\(s\) hold none; the shadow 10 rows/);
        expect(seen.message).toMatch(/^partition 202401 after the swap/);
        expect(ledgerWrites(cluster.sent)).not.toContain(JANUARY);
      },
    );
    expect(states(progress)).toEqual([
      [JANUARY, 'swapped'],
      [FEBRUARY, 'swapped'],
    ]);
    // Each retried swap replaced again (idempotent); one ledger row, written by the attempt whose check passed.
    const replaces = cluster.sent.filter((s) => /REPLACE PARTITION/.test(s.query) && s.params.partition_id === JANUARY);
    expect(replaces.length).toBeGreaterThanOrEqual(2);
    expect(ledgerWrites(cluster.sent).filter((p) => p === JANUARY)).toHaveLength(1);
  });

  it('a swap failing for good: that partition fails with the server message and no ledger row, the others swap, the backfill fails naming it', async () => {
    const { progress, outcome, cluster } = await backfillWith(
      (s) =>
        /REPLACE PARTITION/.test(s.query) && s.params.partition_id === FEBRUARY
          ? { error: serverError(122, 'INCOMPATIBLE_COLUMNS', 'Tables have different structure on ch-node-2') }
          : undefined,
      (h) => progressUntil(h, (p) => p.failed === 1, 'February failed').then(() => undefined),
    );
    expect(outcome).toMatchObject({
      cause: {
        message: expect.stringMatching(/^1 of 2 partitions failed: 202402 \(.*different structure on ch-node-2/),
      },
    });
    expect(states(progress)).toEqual([
      [JANUARY, 'swapped'],
      [FEBRUARY, 'failed'],
    ]);
    expect(progress.partitions.find((p) => p.id === FEBRUARY)?.error).toMatch(/different structure on ch-node-2/);
    expect(ledgerWrites(cluster.sent)).toEqual([JANUARY]);
    // Its shadow is dropped: nothing of the failed attempt is left behind.
    expect(cluster.sent.some((s) => /^DROP TABLE/.test(s.query) && String(s.params.table).includes('202402'))).toBe(
      true,
    );
  });

  it('Keeper session lost during the fill: the build is retried from a fresh shadow, then the partition swaps once', async () => {
    const fill = /^INSERT INTO \{into_db/;
    const { progress, cluster } = await backfillWith(
      (s) =>
        fill.test(s.query)
          ? { error: serverError(999, 'KEEPER_EXCEPTION', 'Coordination::Exception: Session expired (ch-keeper-1)') }
          : undefined,
      async (h, cluster) => {
        await retrying(JANUARY, 'buildValidatedShadow', /Session expired/);
        expect((await h.query(progressQuery)).partitions.find((p) => p.id === JANUARY)?.state).toBe('running');
        expect(cluster.sent.some((s) => /REPLACE PARTITION/.test(s.query))).toBe(false);
      },
    );
    expect(states(progress)).toEqual([
      [JANUARY, 'swapped'],
      [FEBRUARY, 'swapped'],
    ]);
    expect(cluster.failed.filter((s) => fill.test(s.query)).length).toBeGreaterThanOrEqual(1);
    expect(ledgerWrites(cluster.sent).sort()).toEqual([JANUARY, FEBRUARY]);
  });

  it('DDL timeout on one host: creating the shadow is "look again" naming the host, then the partition swaps', async () => {
    const { progress, cluster } = await backfillWith(
      (s, settings) =>
        /^CREATE TABLE \{table_db/.test(s.query) && isDdlStatus(settings)
          ? { rows: hostsAnswering('ch-node-3') }
          : undefined,
      async (_h, cluster) => {
        await retrying(JANUARY, 'buildValidatedShadow', /DDL not finished in time on ch-node-3: looked at again/);
        expect(cluster.sent.some((s) => /^INSERT INTO \{into_db/.test(s.query))).toBe(false);
      },
    );
    expect(states(progress)).toEqual([
      [JANUARY, 'swapped'],
      [FEBRUARY, 'swapped'],
    ]);
    expect(ledgerWrites(cluster.sent).sort()).toEqual([JANUARY, FEBRUARY]);
  });
});
