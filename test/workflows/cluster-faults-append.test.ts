import { randomUUID } from 'node:crypto';
import { Context } from '@temporalio/activity';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { createActivities } from '../../src/activities';
import { progressQuery } from '../../src/shared/messages';
import { partitionLockId } from '../../src/shared/partition-lock';
import type { BackfillProgress } from '../../src/shared/progress';
import type { TableRef } from '../../src/shared/table-ref';
import type { ViewPlan } from '../../src/shared/view-input';
import { workflowBundle } from '../helpers/backfill-harness';
import { type Fault, faultyCluster, hostsAnswering, isDdlStatus, quiet, quietLoad } from '../helpers/cluster-faults';
import { recordedProfile } from '../helpers/recorded-profile';
import type { SentStatement } from '../helpers/scripted-clickhouse';
import { createTestTemporal } from '../helpers/temporal-env';
import { importJob, importPlan, PARTITION, viewJob } from '../helpers/topology-jobs';
import { withViewTargets } from '../helpers/view-target-profiles';

/**
 * The fault table of docs/clusters.md for the jobs that append (`MOVE PARTITION`): a view job and an import job,
 * each through its real workflow (viewBackfillWorkflow, importWorkflow) and the real partition workflow on the
 * Temporal dev server, with the real partition activities (build, move with its checks, cleanup) against a scripted
 * replicated cluster (recorded profile `replicated-cluster`, Atomic database, one shard, three replicas, with the
 * view targets) in which a fault is switched on, then off. The plan, the view's creation, the partition listing and
 * the load sample are simulated (they read system tables the script does not answer).
 *
 * The script keeps no rows, so what the live tables gained is counted from what was sent: a `MOVE PARTITION` out of
 * a shadow or duplicate carries its rows when a fill of the partition ran since that table's last move, and nothing
 * otherwise (the table is empty then). Each live table must gain the rows of one fill exactly once.
 */
const server = withViewTargets(recordedProfile('replicated-cluster'));
const JANUARY = PARTITION.id;

/** The activity a statement is sent from (a fault may hit one step's statements only). */
const activityNow = (): string | undefined => {
  try {
    return Context.current().info.activityType;
  } catch {
    return undefined;
  }
};

/** A sync of every replica sent by the move step: the one just before a `MOVE PARTITION`. */
const syncBeforeMove = (query: string) =>
  /^SYSTEM SYNC REPLICA ON CLUSTER `main` /.test(query) && activityNow() === 'swapPartition';
/** The check after a move that no replica still holds rows of the partition in the table moved out of. */
const replicaCheck = /hostName\(\) AS host, toString\(count\(\)\) AS rows FROM clusterAllReplicas\('main'/;

/**
 * The moves that carried rows, by live table: a move out of a table (shadow or duplicate) carries the fill's rows
 * when a fill ran since that table's last move (the one partition's fill writes every duplicate, through the view
 * copies), and nothing otherwise.
 */
function deliveries(sent: SentStatement[]): Record<string, number> {
  let lastFill = -1;
  const lastMove = new Map<string, number>();
  const into: Record<string, number> = {};
  sent.forEach((s, i) => {
    if (s.via !== 'exec') return;
    if (/^INSERT INTO \{into_db/.test(s.query)) lastFill = i;
    const to = /MOVE PARTITION ID \{partition_id:String\} TO TABLE `(\w+)`\.`(\w+)`/.exec(s.query);
    if (!to) return;
    const from = `${String(s.params.shadow_db)}.${String(s.params.shadow)}`;
    const live = `${to[1]}.${to[2]}`;
    into[live] = (into[live] ?? 0) + (lastFill > (lastMove.get(from) ?? -1) ? 1 : 0);
    lastMove.set(from, i);
  });
  return into;
}

describe('cluster faults of view and import jobs, as the operator sees them (fault table of docs/clusters.md)', () => {
  let env: TestWorkflowEnvironment;
  const taskQueue = `cluster-faults-append-${randomUUID()}`;

  beforeAll(async () => {
    env = await createTestTemporal();
  });
  afterAll(() => env?.teardown());

  const jobs = {
    view: {
      workflowType: 'viewBackfillWorkflow',
      args: [{ job: viewJob }],
      target: { database: 'default', name: 'events_hourly' } as TableRef,
      live: ['default.events_hourly'],
      activities: {
        planViewBackfill: (): Promise<ViewPlan> =>
          Promise.resolve({
            source: { database: 'default', name: 'events' },
            target: { database: 'default', name: 'events_hourly' },
            view: { database: 'default', name: 'events_hourly_mv' },
            cutoff: 1_706_745_600,
            viewExisted: true,
            targetExisted: true,
            server,
          }),
        createViewAndTarget: () => Promise.resolve(),
        listViewPartitions: () => Promise.resolve([PARTITION]),
      },
    },
    import: {
      workflowType: 'importWorkflow',
      args: [{ job: importJob }],
      target: importPlan.target,
      live: ['default.events', 'default.events_by_host'],
      activities: { planImport: () => Promise.resolve({ ...importPlan, server }) },
    },
  };
  type Kind = keyof typeof jobs;

  /** Runs `kind`'s job with `fault` on until `observe` returns; then off, to the end. */
  async function runWith(
    kind: Kind,
    fault: Fault,
    observe: (cluster: ReturnType<typeof faultyCluster>) => Promise<void>,
  ): Promise<{ progress: BackfillProgress; cluster: ReturnType<typeof faultyCluster> }> {
    const job = jobs[kind];
    const cluster = faultyCluster(JANUARY);
    cluster.set(fault);
    const worker = await Worker.create({
      connection: env.nativeConnection,
      namespace: env.namespace ?? 'default',
      taskQueue,
      workflowBundle: await workflowBundle(),
      activities: {
        ...createActivities({ clickhouse: cluster.ch, log: quiet }),
        ...job.activities,
        checkClusterLoad: () => Promise.resolve(quietLoad),
      },
    });
    return worker.runUntil(async () => {
      const handle = await env.client.workflow.start(job.workflowType, {
        taskQueue,
        workflowId: `cluster-faults-${kind}-${randomUUID()}`,
        args: job.args,
      });
      await observe(cluster);
      cluster.set(undefined);
      await handle.result();
      return { progress: await handle.query(progressQuery), cluster };
    });
  }

  /**
   * Where the partition workflow's swap failed with `message`: its pending `activity` once its last failure matches
   * (attempt and message), or the swap's first try in the workflow task (patch `local-swap`), a local activity whose
   * failure its history records (attempt 1; the activity that follows may then succeed at once).
   */
  async function retrying(target: TableRef, activity: string, message: RegExp) {
    const lock = env.client.workflow.getHandle(partitionLockId(target, JANUARY));
    for (let i = 0; i < 300; i++) {
      const described = await lock.describe().catch(() => undefined);
      const pending = described?.raw.pendingActivities?.find((a) => a.activityType?.name === activity);
      const last = pending?.lastFailure?.message ?? '';
      if (message.test(last)) return { attempt: pending?.attempt ?? 0, message: last, via: 'activity' as const };
      const history = described ? await lock.fetchHistory().catch(() => undefined) : undefined;
      const tried = history?.events?.find((e) => message.test(e.markerRecordedEventAttributes?.failure?.message ?? ''));
      if (tried)
        return {
          attempt: 1,
          message: tried.markerRecordedEventAttributes?.failure?.message ?? '',
          via: 'local try' as const,
        };
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`${activity} of ${JANUARY} never retried with ${String(message)}`);
  }

  const moves = (sent: SentStatement[]) => sent.filter((s) => s.via === 'exec' && /MOVE PARTITION/.test(s.query));

  describe.each(Object.keys(jobs) as Kind[])('%s job', (kind) => {
    const { target, live } = jobs[kind];

    it('replica down before the move: the sync before it is "not yet" naming the host, no move until it answers, then each live table gains the rows once', async () => {
      const { progress, cluster } = await runWith(
        kind,
        (s, settings) =>
          syncBeforeMove(s.query) && isDdlStatus(settings) ? { rows: hostsAnswering('ch-node-2') } : undefined,
        async (cluster) => {
          const seen = await retrying(target, 'swapPartition', /DDL not finished in time on ch-node-2/);
          // Failed and went on: the first try in the workflow task, or the activity's second attempt.
          expect(seen.via === 'local try' || seen.attempt >= 2).toBe(true);
          expect(moves(cluster.sent)).toEqual([]);
        },
      );
      expect(progress.partitions.map((p) => [p.id, p.state])).toEqual([[JANUARY, 'swapped']]);
      // One move per table moved out of, after a sync every replica answered.
      expect(moves(cluster.sent)).toHaveLength(live.length);
      expect(deliveries(cluster.sent)).toEqual(Object.fromEntries(live.map((t) => [t, 1])));
    });

    it('a replica still holding rows after the move: the move step fails naming the host and is retried, no live table gains the rows twice', async () => {
      const { progress, cluster } = await runWith(
        kind,
        (s) => (replicaCheck.test(s.query) ? { rows: [{ host: 'ch-node-3', rows: '4' }] } : undefined),
        async () => {
          const seen = await retrying(
            target,
            'swapPartition',
            /still holds rows after MOVE PARTITION on ch-node-3 \(4\)/,
          );
          // Failed and went on: either the activity is on its second attempt, or the first try failed in the
          // workflow task (an import's retry then finds nothing left to move and completes).
          expect(seen.via === 'local try' || seen.attempt >= 2).toBe(true);
        },
      );
      expect(progress.partitions.map((p) => [p.id, p.state])).toEqual([[JANUARY, 'swapped']]);
      // A retried view move runs again and finds the shadow empty; a retried import lists each duplicate again and
      // moves only what is left (nothing): every live table gained the one fill's rows once.
      expect(moves(cluster.sent).length).toBeGreaterThanOrEqual(live.length);
      expect(deliveries(cluster.sent)).toEqual(Object.fromEntries(live.map((t) => [t, 1])));
      // No fill ran again after the first move.
      const firstMove = cluster.sent.indexOf(moves(cluster.sent)[0]);
      expect(cluster.sent.slice(firstMove).some((s) => /^INSERT INTO \{into_db/.test(s.query))).toBe(false);
    });
  });
});
