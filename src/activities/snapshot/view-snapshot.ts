import type { ClickHouse } from '../../clickhouse/clickhouse';
import { isMergeTreeFamily, isReplicatedEngine } from '../../clickhouse/engine-family';
import type { PartitionPlan } from '../../shared/backfill-results';
import { type ViewJob } from '../../shared/job-spec';
import type { SnapshotDescription, SnapshotOutcome, SnapshotPlan } from '../../shared/snapshot-input';
import { DESCRIBED_WRITER_TAG } from '../../shared/view-input';
import { snapshotTableFor } from '../../shared/writer-tables';
import { selectTableInfo } from '../../sql/engine/introspection';
import { attachPartitionFrom } from '../../sql/engine/partition-ops';
import { selectActivePartitions } from '../../sql/snapshot/snapshot';
import { dialectOf, type ServerDialect } from '../../sql/engine/server-dialect';
import { selectViewDefinition } from '../../sql/view/view';
import {
  createLiveQueryView,
  createViewQueryTarget,
  liveViewQuery,
  liveViewQuerySelect,
} from '../../sql/view/view-sql';
import type { ActivityDeps } from '../engine/deps';
import { JobSpecError } from '../engine/errors';
import { withHeartbeat } from '../engine/heartbeat';
import { detectServerProfile } from '../engine/server-profile';
import { refuseUnsupportedServer } from '../engine/server-refusal';
import { runDdl, runStatement } from '../engine/cluster-ddl';
import { checkViewJob, describePartitions, viewMatchesSelect } from '../view/plan-view';
import { viewQueryPartitions } from '../view/plan-view-query';
import { qualifiedName, type TableRef } from '../../shared/table-ref';
import { SNAPSHOT_CUTOFF } from '../../shared/snapshot-cutoff';
import type { DescribedStatement } from '../../shared/described-statement';

/**
 * Each partition of `table` with its rows: from part metadata on one server, from the table with sequential
 * consistency on Cloud (`dialect`), so the source's, the snapshot's and the target's rows are compared as of every
 * committed part.
 */
async function activePartitions(
  ch: ClickHouse,
  table: TableRef,
  dialect: ServerDialect,
): Promise<{ id: string; rows: number }[]> {
  return (await ch.rows(selectActivePartitions(table, dialect))).map((p) => ({ id: p.id, rows: Number(p.rows) }));
}

const totalRows = (partitions: { rows: number }[]): number => partitions.reduce((n, p) => n + p.rows, 0);

/**
 * The statements that take the snapshot, in order (for the plan's server): a fresh table shaped like the source,
 * then each partition (its pending patches applied first). On Cloud the attaches are not preceded by a sync of the
 * source, whose database the job's grants need not cover for `SYSTEM SYNC REPLICA`: the snapshot's rows, counted
 * with sequential consistency, must equal the source's, so an attach that a lagging replica ran short is caught
 * (the snapshot is dropped and taken again on the next confirm).
 */
function snapshotStatements(plan: SnapshotPlan, partitionIds: string[]) {
  const dialect = dialectOf(plan.server);
  return {
    fresh: [dialect.dropTable(plan.snapshot), dialect.createLike(plan.snapshot, plan.source)],
    attach: partitionIds.map((id) => ({
      id,
      statements: [
        ...dialect.applyPatches(plan.source, id),
        // On a cluster the source synced on every replica, as after a fill: the replica that attaches holds
        // every part written before the snapshot. None elsewhere (on Cloud the rows are compared after it).
        ...dialect.syncAfterFill(plan.source),
        dialect.partitionAlter(attachPartitionFrom(plan.snapshot, plan.source, id)),
      ],
    })),
    afterAttach: dialect.syncAfterFill(plan.snapshot),
    drop: dialect.dropTable(plan.snapshot),
  };
}

export interface SnapshotPlanInput {
  job: ViewJob;
  /** The run's writer tag, which names its snapshot table. */
  tag: string;
}

export interface SnapshotStepInput {
  job: ViewJob;
  plan: SnapshotPlan;
}

export interface CreateSnapshotViewInput extends SnapshotStepInput {
  /** The rows the snapshot holds: the source must still hold exactly these when the view is created. */
  rows: number;
}

/**
 * The activities of a `cutoff: snapshot` view job (the ClickHouse guide's last scenario): plan (checks only), take
 * the snapshot, create the view, list the partitions to fill from the snapshot, drop it, and describe all of it
 * without running any DDL (a dry run). The fill itself is the view job's (src/activities/view/view-steps.ts), with the
 * snapshot as its source and no cutoff.
 */
export function viewSnapshotSteps({ clickhouse: ch, log, onStep }: ActivityDeps) {
  const plan = async ({ job, tag }: SnapshotPlanInput): Promise<SnapshotPlan> => {
    if (job.cutoff !== SNAPSHOT_CUTOFF) {
      throw new JobSpecError(
        'cutoff',
        `viewSnapshotWorkflow takes cutoff: snapshot jobs; a job with cutoff ${job.cutoff} runs as viewBackfillWorkflow`,
      );
    }
    const { tables, targetExisted } = await checkViewJob(ch, job);
    const [info] = await ch.rows(selectTableInfo(tables.source));
    if (!isMergeTreeFamily(info.engine)) {
      throw new JobSpecError(
        'source.table',
        `${qualifiedName(tables.source)} is a ${info.engine} table: a snapshot attaches its partitions, which only MergeTree ` +
          'tables have',
      );
    }
    const [existing] = await ch.rows(
      selectViewDefinition(tables.view, liveViewQuerySelect(liveViewQuery(job, tables.source), undefined)),
    );
    if (existing) {
      throw new JobSpecError(
        'view.name',
        `${qualifiedName(tables.view)} already exists (${existing.engine} to ${existing.target_database}.` +
          `${existing.target_table}); a snapshot job creates its view itself, at the moment of the snapshot, or ` +
          'it could not tell the rows the view counted from those the backfill must: drop the view and empty ' +
          'its target first',
      );
    }
    // Detected before the target is read: on Cloud its rows are counted with sequential consistency.
    const server = await detectServerProfile(ch, [tables.source, tables.target], {
      target: tables.target,
      cluster: job.cluster,
    });
    if (targetExisted) {
      const rows = totalRows(await activePartitions(ch, tables.target, dialectOf(server)));
      if (rows > 0) {
        throw new JobSpecError(
          'target.table',
          `${qualifiedName(tables.target)} already holds ${rows} rows; a snapshot job fills it with every row of the source, ` +
            'so they would be counted twice: empty it, or name a new target',
        );
      }
    }
    refuseUnsupportedServer(server, tables.target, job.safety, 'append');
    if (server.topology === 'replicated-cluster' && !isReplicatedEngine(info.engine)) {
      throw new JobSpecError(
        'source.table',
        `${qualifiedName(tables.source)} is a ${info.engine} table on cluster ${server.cluster?.name}: a snapshot there ` +
          "is a replicated table attaching the source's partitions on every replica, so the source must be a " +
          'Replicated…MergeTree table, see docs/clusters.md',
      );
    }
    return { ...tables, snapshot: snapshotTableFor(tables.source, tag), targetExisted, server };
  };

  /** The source's rows now; the snapshot must hold exactly them, and so must the source when the view is made. */
  const sourceRows = async (p: SnapshotPlan): Promise<number> =>
    totalRows(await activePartitions(ch, p.source, dialectOf(p.server)));

  return {
    /**
     * Checks a snapshot job before any DDL: the view job's checks (source, columns, functions, an existing target's
     * engine, keys and columns), then a MergeTree source (a snapshot attaches its partitions), no view of that name
     * (a snapshot job's view must start at its snapshot), and an empty target if it exists. Names the run's
     * snapshot table.
     *
     * Durability: read-only.
     */
    async planViewSnapshot(input: SnapshotPlanInput): Promise<SnapshotPlan> {
      return withHeartbeat(
        () => ({ step: 'plan' }),
        async () => {
          const planned = await plan(input);
          log.info('planned view snapshot', {
            view: qualifiedName(planned.view),
            snapshot: qualifiedName(planned.snapshot),
          });
          return planned;
        },
      );
    },

    /**
     * A dry run of a snapshot job: the same checks as `planViewSnapshot`, then every statement a run confirmed now
     * would send, rendered by the same functions: the snapshot (`CREATE TABLE … AS`, one `ATTACH PARTITION … FROM`
     * per source partition), the target and the view, each partition's steps from the snapshot, and the snapshot
     * dropped. Tables are named with {@link DESCRIBED_WRITER_TAG}.
     *
     * Durability: read-only; creates nothing.
     */
    async describeViewSnapshot({ job }: { job: ViewJob }): Promise<SnapshotDescription> {
      const planned = await plan({ job, tag: DESCRIBED_WRITER_TAG });
      const vq = liveViewQuery(job, planned.source);
      const dialect = dialectOf(planned.server);
      const sourcePartitions = await activePartitions(ch, planned.source, dialect);
      // The partitions the snapshot will hold: the source's now (a snapshot is its copy).
      const partitions = await viewQueryPartitions(ch, vq, planned.target, undefined);
      const snapshot = snapshotStatements(
        planned,
        sourcePartitions.map((p) => p.id),
      );
      const statements: DescribedStatement[] = [
        ...snapshot.fresh.map((st) => ({ step: 'snapshot', ...st })),
        ...snapshot.attach.flatMap(({ id, statements }) =>
          statements.map((statement) => ({ step: `snapshot: partition ${id}`, ...statement })),
        ),
        ...snapshot.afterAttach.map((st) => ({ step: 'snapshot', ...st })),
        ...(planned.targetExisted || !dialect.createsTarget
          ? []
          : [{ step: 'create the target', ...createViewQueryTarget(vq, planned.target) }]),
        { step: 'create the view', ...dialect.ddl(createLiveQueryView(vq, planned.view, planned.target, undefined)) },
        ...describePartitions(
          job,
          { source: planned.snapshot, target: planned.target, server: planned.server },
          partitions,
          undefined,
        ),
        { step: 'drop the snapshot', ...snapshot.drop },
      ];
      return {
        plan: planned,
        sourcePartitions,
        partitions: partitions.map((p) => ({ id: p.id, sourceRows: p.sourceRows })),
        statements: statements.map(({ step, query, params, settings }) => ({ step, query, params, settings })),
      };
    },

    /**
     * Takes the snapshot of the source (the guide's steps 2 and 3), while the operator keeps inserts paused: drops
     * whatever an earlier attempt left, `CREATE TABLE <snapshot> AS <source>`, then `ATTACH PARTITION … FROM
     * <source>` for every partition (hard links; the source keeps its parts). Then checks that the source held the
     * same rows before and after and that the snapshot holds exactly them; otherwise rows kept arriving (inserts
     * were not paused): the snapshot is dropped and the outcome says why.
     *
     * Durability: exactly once whatever crashes. ATTACH PARTITION FROM is not idempotent (it copies again), so an
     * attempt never attaches onto what an earlier one left: each starts from a new, empty snapshot table.
     */
    async snapshotSource({ plan: p }: SnapshotStepInput): Promise<SnapshotOutcome> {
      return withHeartbeat(
        () => ({ step: 'snapshot' }),
        async () => {
          const dialect = dialectOf(p.server);
          const before = await activePartitions(ch, p.source, dialect);
          const statements = snapshotStatements(
            p,
            before.map((x) => x.id),
          );
          for (const st of statements.fresh) await runDdl(ch, st, dialect);
          for (const { id, statements: attach } of statements.attach) {
            for (const statement of attach) await runStatement(ch, statement, dialect);
            await onStep?.('snapshot:attached', id);
          }
          for (const statement of statements.afterAttach) await runStatement(ch, statement, dialect);
          const expected = totalRows(before);
          const taken = totalRows(await activePartitions(ch, p.snapshot, dialect));
          const after = await sourceRows(p);
          if (taken !== expected || after !== expected) {
            await runDdl(ch, statements.drop, dialect);
            const reason =
              `${qualifiedName(p.source)} went from ${expected} to ${after} rows while it was snapshotted ` +
              `(the snapshot got ${taken}): inserts were not paused`;
            log.warn('snapshot dropped: rows kept arriving', { source: qualifiedName(p.source), reason });
            return { ok: false, reason };
          }
          log.info('snapshot taken', { snapshot: qualifiedName(p.snapshot), rows: taken, partitions: before.length });
          return { ok: true, rows: taken };
        },
      );
    },

    /**
     * Creates the target when missing and the view over every row (the guide's step 4, no cutoff filter), once
     * the source still holds exactly the snapshot's rows: nothing arrived since the snapshot, so every row is
     * either in the snapshot or, from now on, the view's. When rows arrived, creates nothing and says why.
     *
     * Durability: `IF NOT EXISTS` for both; a retry that finds our view in place returns at once (the source may
     * legitimately have grown since: inserts may resume once the view exists).
     */
    async createSnapshotView({ job, plan: p, rows }: CreateSnapshotViewInput): Promise<SnapshotOutcome> {
      const vq = liveViewQuery(job, p.source);
      const matches = () => viewMatchesSelect(ch, liveViewQuerySelect(vq, undefined), p);
      if (await matches()) return { ok: true, rows };
      const now = await sourceRows(p);
      if (now !== rows) {
        return {
          ok: false,
          reason: `${qualifiedName(p.source)} went from ${rows} to ${now} rows after its snapshot: inserts were not paused`,
        };
      }
      const dialect = dialectOf(p.server);
      // On a cluster the target exists on every replica (the plan refuses it otherwise): only the view is created.
      if (dialect.createsTarget) await ch.exec(createViewQueryTarget(vq, p.target));
      await runDdl(ch, dialect.ddl(createLiveQueryView(vq, p.view, p.target, undefined)), dialect);
      // Another writer may have created a view of that name in between: ours must be the one there.
      if (!(await matches())) throw new Error(`${qualifiedName(p.view)} vanished`);
      await onStep?.('view:created', qualifiedName(p.view));
      log.info('view created; inserts may resume', { view: qualifiedName(p.view), source: qualifiedName(p.source) });
      return { ok: true, rows };
    },

    /**
     * The target partitions the snapshot's rows fall in, with their rows (and the live rows the view has written
     * there so far). Durability: read-only.
     */
    async listSnapshotPartitions({ job, plan: p }: SnapshotStepInput): Promise<PartitionPlan[]> {
      return withHeartbeat(
        () => ({ step: 'list partitions' }),
        () => viewQueryPartitions(ch, liveViewQuery(job, p.snapshot), p.target, undefined),
      );
    },

    /** Drops the snapshot. Durability: `DROP TABLE IF EXISTS`, a no-op when repeated. */
    async dropSnapshot({ plan: p }: { plan: SnapshotPlan }): Promise<void> {
      const dialect = dialectOf(p.server);
      await runDdl(ch, dialect.dropTable(p.snapshot), dialect);
      log.info('snapshot dropped', { snapshot: qualifiedName(p.snapshot) });
    },
  };
}
