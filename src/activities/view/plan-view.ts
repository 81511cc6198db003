import type { ViewPartitionTask } from '../../shared/partition-task';
import type { ServerProfile } from '../../shared/server-profile';
import type { ClickHouse } from '../../clickhouse/clickhouse';
import type { Statement } from '../../clickhouse/statement';
import type { PartitionPlan } from '../../shared/backfill-results';
import { DESCRIBED_WRITER_TAG, type ViewDescription, type ViewPlan } from '../../shared/view-input';
import { shardedViewTask, viewPartitionTask } from '../../shared/view-partition-task';
import { partitionsPerShard, shardedLocalSource, shardedLocalTarget } from '../../shared/shard-partitions';
import { checkShardedView } from './sharded-view-check';
import { parseCutoff, type ViewJob } from '../../shared/job-spec';
import { columnsOf, functionsOf } from '../../shared/expression-syntax';
import { describeSelect } from '../../sql/engine/introspection';
import { isAdditive, selectExpression, selectViewDefinition, viewShape, type ViewShape } from '../../sql/view/view';
import type { ActivityDeps } from '../engine/deps';
import { functionKinds } from '../engine/function-kinds';
import { JobSpecError } from '../engine/errors';
import { withHeartbeat } from '../engine/heartbeat';
import { tableResolver } from '../engine/table-resolver';
import { detectServerProfile } from '../engine/server-profile';
import { ddlRunSettings, runDdl } from '../engine/cluster-ddl';
import { dialectOf, type ServerDialect } from '../../sql/engine/server-dialect';
import { refuseUnsupportedServer } from '../engine/server-refusal';
import { viewPartitionStatements } from './view-steps';
import {
  checkSourceTime,
  checkViewQueryJob,
  checkViewSql,
  rowsOfViewSql,
  viewQueryPartitions,
  viewValidationText,
} from './plan-view-query';
import {
  createLiveQueryView,
  createViewQueryTarget,
  liveViewQuery,
  liveViewQuerySelect,
  viewQuery,
} from '../../sql/view/view-sql';
import { qualifiedName, type TableRef } from '../../shared/table-ref';
import { SNAPSHOT_CUTOFF } from '../../shared/snapshot-cutoff';
import type { DescribedStatement } from '../../shared/described-statement';
import { isoOfEpochSeconds } from '../../shared/epoch-seconds';

/** How a refusal of the time column points to the job without one. */
const WITHOUT_TIME_COLUMN =
  'for a source without a usable time column, omit source.timeColumn and set cutoff: snapshot';

/**
 * Source columns exist, the time column (if the job has one) is a DateTime, and no output name hides a source
 * column.
 */
async function checkSource(ch: ClickHouse, job: ViewJob, shape: ViewShape, source: TableRef): Promise<void> {
  const columns = await checkSourceTime(ch, source, job.source.timeColumn, WITHOUT_TIME_COLUMN);
  const types = new Map(columns.map((c) => [c.name, c.type]));
  const missing = (field: string, name: string) =>
    new JobSpecError(
      field,
      `column "${name}" does not exist in ${qualifiedName(source)} (it has: ${[...types.keys()].join(', ')})`,
    );
  const fields = [
    ...shape.groupBy.map((g) => ({ field: `groupBy.${g.name}`, exprs: [g.expr] })),
    ...shape.aggregates.map((a) => ({ field: `aggregates.${a.name}`, exprs: [...a.metric.params, ...a.metric.args] })),
    ...(shape.where ? [{ field: 'where', exprs: [shape.where] }] : []),
  ];
  for (const { field, exprs } of fields) {
    for (const name of exprs.flatMap(columnsOf)) if (!types.has(name)) throw missing(field, name);
  }
  // ClickHouse lets an output alias stand for the source column of the same name in WHERE and in other columns.
  // An aggregate may be named after a source column (`bytes: sum(bytes)`): the view's SELECT reads that column
  // qualified with the table (src/sql/view/view.ts). A groupBy output is a key, the ORDER BY and partition column
  // the fill filters on: only a plain copy of the column (`project: project`) may reuse its name.
  for (const g of shape.groupBy) {
    if (types.has(g.name) && !(g.expr.kind === 'column' && g.expr.name === g.name)) {
      throw new JobSpecError(
        `groupBy.${g.name}`,
        `"${g.name}" is a column of ${qualifiedName(source)}; name the output otherwise`,
      );
    }
  }
}

/** Aggregates are aggregate calls (additive ones only for a SummingMergeTree); groupBy and where are per row. */
async function checkFunctions(ch: ClickHouse, shape: ViewShape): Promise<void> {
  const perRow = [
    ...shape.groupBy.map((g) => ({ field: `groupBy.${g.name}`, expr: g.expr })),
    ...shape.aggregates.flatMap((a) =>
      [...a.metric.params, ...a.metric.args].map((expr) => ({ field: `aggregates.${a.name}`, expr })),
    ),
    ...(shape.where ? [{ field: 'where', expr: shape.where }] : []),
  ];
  const names = [
    ...new Set([...perRow.flatMap((p) => functionsOf(p.expr)), ...shape.aggregates.map((a) => a.metric.fn)]),
  ];
  const kinds = await functionKinds(ch, names);
  for (const a of shape.aggregates) {
    if (!kinds.isAggregate(a.metric.fn)) {
      throw new JobSpecError(`aggregates.${a.name}`, `"${a.metric.fn}" is not an aggregate function`);
    }
  }
  for (const { field, expr } of perRow) {
    for (const fn of functionsOf(expr)) {
      if (kinds.isAggregate(fn)) {
        throw new JobSpecError(field, `aggregate "${fn}" is not allowed here (it must be per row)`);
      }
      if (!kinds.known(fn)) throw new JobSpecError(field, `unknown function "${fn}"`);
    }
  }
  if (shape.engine === 'SummingMergeTree') {
    for (const a of shape.aggregates) {
      if (!isAdditive(a.metric)) {
        throw new JobSpecError(
          `aggregates.${a.name}`,
          `a SummingMergeTree target can only add up count() and sum(); use target.engine: AggregatingMergeTree`,
        );
      }
    }
  }
}

/** Whether the view exists with exactly `expectedSelect` into the plan's target; another definition refuses. */
export async function viewMatchesSelect(
  ch: ClickHouse,
  expectedSelect: string,
  plan: { target: TableRef; view: TableRef },
): Promise<boolean> {
  const [existing] = await ch.rows(selectViewDefinition(plan.view, expectedSelect));
  if (!existing) return false;
  const same =
    existing.engine === 'MaterializedView' &&
    existing.target_database === plan.target.database &&
    existing.target_table === plan.target.name &&
    existing.stored === existing.expected;
  if (!same) {
    throw new JobSpecError(
      'view.name',
      `${qualifiedName(plan.view)} already exists with another definition (${existing.engine} to ` +
        `${existing.target_database}.${existing.target_table}: ${existing.stored}); the job would create ` +
        `${existing.expected} to ${qualifiedName(plan.target)}. Drop it, or give the job its cutoff if it is this job's view`,
    );
  }
  return true;
}

/** Resolves the job's tables the same way in every activity (`resolve` for the other names of the job). */
async function resolveTables(ch: ClickHouse, job: ViewJob) {
  const resolve = await tableResolver(ch);
  const target = resolve(job.target.table);
  const view = job.view.name.includes('.')
    ? resolve(job.view.name)
    : { database: target.database, name: job.view.name };
  return { source: resolve(job.source.table), target, view, resolve };
}

/**
 * The checks of a view job in the structured form before any DDL, each naming its field: the source and its columns
 * (and time column), the functions, and each groupBy expression on its own; then the checks of the SQL it is
 * shorthand for, as a view given as SQL passes them ({@link checkViewSql}: the server's parse, the output, an
 * existing target's engine, keys and exactly its columns). On a sharded cluster the `local` tables behind the job's
 * Distributed ones are read. Returns the resolved tables and whether the target exists.
 */
export async function checkViewJob(ch: ClickHouse, job: ViewJob, local?: { source: TableRef; target: TableRef }) {
  const shape = viewShape(job);
  const { resolve, ...tables } = await resolveTables(ch, job);
  // On a sharded cluster the local tables behind the Distributed ones hold the columns and the target's keys.
  const read = local ?? tables;
  await checkSource(ch, job, shape, read.source);
  await checkFunctions(ch, shape);
  for (const g of shape.groupBy) {
    await rowsOfViewSql(ch, `groupBy.${g.name}`, describeSelect(selectExpression(g.expr, g.name, read.source)));
  }
  const { targetExisted } = await checkViewSql(ch, job, liveViewQuery(job, read.source), resolve, read, {
    field: 'aggregates',
    keyField: 'groupBy',
    exactColumns: true,
  });
  return { tables, targetExisted };
}

/**
 * A dry run's statements of each partition's steps, as a run's partition writers send them (shadows named with
 * {@link DESCRIBED_WRITER_TAG}), filling from `tables.source` before `cutoff` (all of it when undefined).
 */
export function describePartitions(
  job: ViewJob,
  tables: { source: TableRef; target: TableRef; server?: ServerProfile; columns?: string[] },
  partitions: PartitionPlan[],
  cutoff: number | undefined,
  server?: ServerProfile,
): DescribedStatement[] {
  return partitions.flatMap((partition) => {
    const task =
      shardedViewTask(job, tables, partition, DESCRIBED_WRITER_TAG, cutoff) ??
      viewPartitionTask(job, tables, partition, DESCRIBED_WRITER_TAG, cutoff);
    return describedViewPartition(server ? { ...task, server } : task);
  });
}

/**
 * One view partition's statements as its steps send them, in order (validation's totals and the row-count reads
 * left out): prepare, the fill (into the shadow just made, so without a truncate), the move (on Cloud after a
 * best-effort sync of the shadow), the cleanup.
 */
export function describedViewPartition(task: ViewPartitionTask): DescribedStatement[] {
  const steps = viewPartitionStatements(task);
  const at = (step: string) => `partition ${task.partition.id}: ${step}`;
  const dialect = dialectOf(task.server);
  const run = (st: Statement, ddl = false) => ({ ...st, ...ddlRunSettings(st, dialect, ddl) });
  return [
    ...steps.prepare.map((st) => ({ step: at('prepare'), ...run(st, true) })),
    { step: at('fill'), ...steps.insert, settings: task.job.insertSettings as Record<string, number> },
    ...steps.afterFill.map((st) => ({ step: at('fill'), ...run(st) })),
    ...steps.move.map((st) => ({ step: at('move'), ...run(st) })),
    ...steps.drop.map((st) => ({ step: at('cleanup'), ...run(st, true) })),
  ];
}

export interface ViewPlanInput {
  job: ViewJob;
}

export interface CreateViewInput {
  job: ViewJob;
  cutoff: number;
}

/**
 * The statements creating the target (where the dialect lets a job create one) and the live view (on a cluster on
 * every replica), of the structured form or of a view given as SQL.
 */
export function creationStatements(
  job: ViewJob,
  tables: { source: TableRef; target: TableRef; view: TableRef },
  cutoff: number,
  dialect: ServerDialect,
): { target?: Statement; view: Statement } {
  const vq = liveViewQuery(job, tables.source);
  return {
    ...(dialect.createsTarget ? { target: createViewQueryTarget(vq, tables.target) } : {}),
    view: dialect.ddl(createLiveQueryView(vq, tables.view, tables.target, cutoff)),
  };
}

/** Seconds that must be left before the cutoff when the view is created, or rows at the cutoff could be missed. */
const MIN_LEAD_SECONDS = 2;

/**
 * The activities of a `kind: view` job: plan (checks only), create (target and view), list the partitions to
 * fill once the cutoff has passed, and describe all of it without running any DDL (a dry run).
 */
export function viewPlanning({ clickhouse: ch, log }: ActivityDeps) {
  const plan = async (job: ViewJob): Promise<ViewPlan> => {
    if (job.cutoff === SNAPSHOT_CUTOFF) {
      throw new JobSpecError(
        'cutoff',
        'a cutoff: snapshot job runs as viewSnapshotWorkflow (ch-backfill start picks it); ' +
          'viewBackfillWorkflow needs cutoff auto or a UTC time',
      );
    }
    const vq = viewQuery(job);
    const now = Math.floor(Date.now() / 1000);
    const { server, local } = await liveTables(job);
    const cutoff = job.cutoff === 'auto' ? now + job.cutoffMarginSeconds : (parseCutoff(job.cutoff) ?? Number.NaN);
    let checked: { tables: { source: TableRef; target: TableRef; view: TableRef }; targetExisted: boolean };
    let columns: string[] | undefined;
    if (vq) {
      const { resolve, ...tables } = await resolveTables(ch, job);
      const query = await checkViewQueryJob(ch, job, vq, resolve, tables);
      checked = { tables, targetExisted: query.targetExisted };
      columns = query.columns;
    } else {
      checked = await checkViewJob(ch, job, local);
    }
    const { tables, targetExisted } = checked;
    const live = { ...tables, ...local };
    const viewExisted = await viewMatchesSelect(ch, liveViewQuerySelect(liveViewQuery(job, live.source), cutoff), live);
    if (!viewExisted && cutoff < now + MIN_LEAD_SECONDS) {
      throw new JobSpecError(
        'cutoff',
        `${job.cutoff} is already past (now ${isoOfEpochSeconds(now)}): give a later one or auto`,
      );
    }
    // A view job on a sharded cluster runs per (partition, shard); checkShardedView refused what it cannot run there.
    refuseUnsupportedServer(server, tables.target, job.safety, 'append', { perShard: local !== undefined });
    return { ...tables, cutoff, viewExisted, targetExisted, server, ...(columns ? { columns } : {}) };
  };

  /**
   * The job's tables and server, and on a sharded cluster the local tables behind its Distributed ones, which the
   * live view on every shard reads and writes (see {@link checkShardedView}).
   */
  const liveTables = async (job: ViewJob) => {
    const { resolve: _resolve, ...tables } = await resolveTables(ch, job);
    const server = await detectServerProfile(ch, [tables.source, tables.target], {
      target: tables.target,
      cluster: job.cluster,
    });
    const sharded = server.topology === 'sharded-cluster' && server.sharding !== undefined;
    return { tables, server, local: sharded ? checkShardedView(server, job, tables) : undefined };
  };

  /** On a sharded cluster one partition per (partition, shard), its rows those of every shard. */
  const partitionsBefore = async (
    job: ViewJob,
    cutoff: number,
    server: ServerProfile | undefined,
  ): Promise<PartitionPlan[]> => {
    const { source, target } = await resolveTables(ch, job);
    const partitions = await viewQueryPartitions(ch, liveViewQuery(job, source), target, cutoff);
    const shards = server?.topology === 'sharded-cluster' ? server.sharding?.shards : undefined;
    return shards ? partitionsPerShard(partitions, shards) : partitions;
  };

  return {
    /**
     * Checks the job against its tables before any DDL (source, time column, functions, an existing target's
     * engine, keys and columns, an existing view's definition) and fixes the cutoff: the job's, which must still
     * be ahead unless the view already exists with it; or, for `auto`, now + `cutoffMarginSeconds`
     * (whole seconds). The result is recorded in the workflow's history, so the cutoff never changes afterwards.
     *
     * Durability: read-only; a retry may pick a later automatic cutoff, which is fine as nothing exists yet.
     */
    async planViewBackfill({ job }: ViewPlanInput): Promise<ViewPlan> {
      return withHeartbeat(
        () => ({ step: 'plan' }),
        async () => {
          const planned = await plan(job);
          log.info('planned view backfill', {
            view: qualifiedName(planned.view),
            cutoff: isoOfEpochSeconds(planned.cutoff),
            viewExisted: planned.viewExisted,
          });
          return planned;
        },
      );
    },

    /**
     * A dry run: the same checks and cutoff as `planViewBackfill`, then every statement a run started now would
     * send, rendered by the same functions the run uses: the target and the view (unless they exist), then each
     * partition's steps (shadows named with {@link DESCRIBED_WRITER_TAG}). Validation's reads are left out.
     *
     * Durability: read-only; creates nothing, so repeating it is harmless.
     */
    async describeViewBackfill({ job }: ViewPlanInput): Promise<ViewDescription> {
      const planned = await plan(job);
      const partitions = await partitionsBefore(job, planned.cutoff, planned.server);
      const { target: createTarget, view: createView } = creationStatements(
        job,
        {
          view: planned.view,
          source: shardedLocalSource(planned) ?? planned.source,
          target: shardedLocalTarget(planned) ?? planned.target,
        },
        planned.cutoff,
        dialectOf(planned.server),
      );
      const statements: DescribedStatement[] = [
        ...(planned.targetExisted || !createTarget ? [] : [{ step: 'create the target', ...createTarget }]),
        ...(planned.viewExisted ? [] : [{ step: 'create the view', ...createView }]),
      ];
      statements.push(...describePartitions(job, planned, partitions, planned.cutoff));
      return {
        plan: planned,
        partitions: partitions.map((p) => ({ id: p.id, sourceRows: p.sourceRows })),
        ...viewValidationText(job),
        statements: statements.map(({ step, query, params, settings }) => ({ step, query, params, settings })),
      };
    },

    /**
     * Creates the target when missing and the live view with `WHERE <time> >= cutoff` (the guide's scenario 2,
     * step 1). Refuses to create the view once the cutoff is too close: rows between the cutoff and a late view
     * would be written by neither the view nor the fill.
     *
     * Durability: `IF NOT EXISTS` for both, and an existing view must have exactly this definition; a retry after
     * the view landed finds it and changes nothing.
     */
    async createViewAndTarget({ job, cutoff }: CreateViewInput): Promise<void> {
      // The plan's server, read again: the workflow hands this activity the job and the cutoff only. On a sharded
      // cluster the view is created on every shard's local source, writing that shard's local target.
      const { server, local, tables: jobTables } = await liveTables(job);
      const tables = { ...jobTables, ...local };
      const select = liveViewQuerySelect(liveViewQuery(job, tables.source), cutoff);
      const matches = () => viewMatchesSelect(ch, select, tables);
      if (await matches()) return;
      if (Date.now() / 1000 > cutoff - MIN_LEAD_SECONDS) {
        throw new JobSpecError(
          'cutoff',
          `${isoOfEpochSeconds(cutoff)} passed before the view could be created; run the job again`,
        );
      }
      const dialect = dialectOf(server);
      const create = creationStatements(job, tables, cutoff, dialect);
      if (create.target) await ch.exec(create.target);
      await runDdl(ch, create.view, dialect);
      // Another writer may have created a view of that name in between: ours must be the one there.
      if (!(await matches())) throw new Error(`${qualifiedName(tables.view)} vanished`);
      log.info('view created', { view: qualifiedName(tables.view), cutoff: isoOfEpochSeconds(cutoff) });
    },

    /**
     * The target partitions holding source rows before the cutoff (one `all` partition for an unpartitioned
     * target), with their source rows and the live rows the target holds now. Durability: read-only.
     */
    async listViewPartitions({ job, cutoff }: CreateViewInput): Promise<PartitionPlan[]> {
      return withHeartbeat(
        () => ({ step: 'list partitions' }),
        async () => partitionsBefore(job, cutoff, (await liveTables(job)).server),
      );
    },
  };
}
