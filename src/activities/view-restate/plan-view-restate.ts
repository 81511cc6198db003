import { isPlainIdentifier } from '../../shared/plain-identifier';
import { parseCutoff } from '../../shared/job-spec';
import { partitionFromId, partitionsCovering } from '../../shared/partitions';
import type { RestateChainBuild, ViewRestateBuild } from '../../shared/partition-task';
import { qualifiedName, type TableRef } from '../../shared/table-ref';
import type { ViewRestateInput, ViewRestatePlan } from '../../shared/view-restate-input';
import { selectTableColumns, selectTableInfo } from '../../sql/engine/introspection';
import { dialectOf } from '../../sql/engine/server-dialect';
import { selectDependentViews } from '../../sql/import/import';
import { MAX_CHAIN_DEPTH } from '../import/plan-import';
import { repointViewSelect, ViewRepointError } from '../../sql/import/repoint-view-select';
import { selectRestatePartitions, selectRestateView } from '../../sql/view-restate/restate';
import type { ActivityDeps } from '../engine/deps';
import { JobSpecError } from '../engine/errors';
import { withHeartbeat } from '../engine/heartbeat';
import { detectServerProfile } from '../engine/server-profile';
import { refuseUnsupportedServer } from '../engine/server-refusal';
import { partitionRows } from '../engine/step-runner';
import { tableResolver } from '../engine/table-resolver';

const ENGINES = ['MergeTree', 'SummingMergeTree', 'AggregatingMergeTree', 'ReplacingMergeTree'] as const;
const PARTITION_KEY = /^(toYYYYMM|toYYYYMMDD)\(([A-Za-z_][A-Za-z0-9_]*)\)$/;

/** A refusal naming the job's field (and, down a chain, the view refused). */
type Refuse = (why: string) => JobSpecError;

/** The target's engine family, without `Replicated`/`Shared`; refused when validation has nothing exact for it. */
function engineFamily(engine: string, target: TableRef, refuse: Refuse): ViewRestateBuild['engine'] {
  const family = engine.replace(/^(Replicated|Shared)/, '');
  const known = ENGINES.find((e) => e === family);
  if (!known) {
    throw refuse(
      `the view's target ${qualifiedName(target)} is a ${engine} table; a restate validates ${ENGINES.join(', ')} targets`,
    );
  }
  return known;
}

/**
 * What a restate rebuilds `target` with: the view's stored `select`, the target's columns, engine family, ORDER BY
 * and partition function (`toYYYYMM(col)` or `toYYYYMMDD(col)`), each refused through `refuse` otherwise.
 */
async function restateBuildOf(
  ch: ActivityDeps['clickhouse'],
  select: string,
  target: TableRef,
  refuse: Refuse,
): Promise<ViewRestateBuild> {
  const [info] = await ch.rows(selectTableInfo(target));
  if (!info) throw refuse(`the view's target ${qualifiedName(target)} does not exist`);
  const engine = engineFamily(info.engine, target, refuse);
  const key = PARTITION_KEY.exec(info.partition_key);
  if (!key) {
    throw refuse(
      `the target ${qualifiedName(target)} is partitioned by "${info.partition_key}"; a restate takes toYYYYMM(<column>) or toYYYYMMDD(<column>)`,
    );
  }
  const orderBy = info.sorting_key.split(',').map((c) => c.trim());
  if (!orderBy.every(isPlainIdentifier)) {
    throw refuse(`the target's ORDER BY (${info.sorting_key}) is not a list of columns`);
  }
  const columns = (await ch.rows(selectTableColumns(target))).map((c) => c.name);
  const fn = key[1] as 'toYYYYMM' | 'toYYYYMMDD';
  return { kind: 'view-restate', select, columns, partitionBy: { fn, column: key[2] }, engine, orderBy };
}

const partitionKeyText = (b: ViewRestateBuild) => (b.partitionBy ? `${b.partitionBy.fn}(${b.partitionBy.column})` : '');

/**
 * The materialized views fed from the restated target and from their targets (a chain A → A_target → B →
 * B_target), level by level, each after the level it reads, up to {@link MAX_CHAIN_DEPTH} levels. Each must pass
 * the restated view's own checks (a `TO` table, one table read by qualified name, a validated engine, a partition
 * function) and be partitioned by the same function of time as the restated target, so that a partition of the
 * target maps to the partition of the same id; otherwise it is refused naming the view and both partition keys.
 */
async function chainFrom(ch: ActivityDeps['clickhouse'], top: TableRef, topBuild: ViewRestateBuild) {
  const chain: { build: RestateChainBuild; target: TableRef }[] = [];
  const read = new Set<string>();
  let level = [top];
  for (let depth = 1; level.length > 0; depth++) {
    const next: TableRef[] = [];
    for (const reads of level) {
      read.add(qualifiedName(reads));
      for (const row of await ch.rows(selectDependentViews(reads))) {
        if (row.engine !== 'MaterializedView') continue;
        const view = { database: row.database, name: row.name };
        const refuse = (why: string) =>
          new JobSpecError(
            'view',
            `the target ${qualifiedName(top)} feeds materialized view ${qualifiedName(view)} (a chain, reading ${qualifiedName(reads)}): ${why}`,
          );
        if (depth > MAX_CHAIN_DEPTH) throw refuse(`the chain is deeper than ${MAX_CHAIN_DEPTH} levels`);
        const target = { database: row.target_database, name: row.target_table };
        if (target.name === '' || target.name.startsWith('.inner')) {
          throw refuse('it has no TO table (its rows live in an inner table); a restate rebuilds TO tables');
        }
        if (read.has(qualifiedName(target))) {
          throw refuse(`it writes into ${qualifiedName(target)}, read earlier in the chain (a cycle)`);
        }
        try {
          repointViewSelect(row.view_select, reads, reads);
        } catch (err) {
          if (err instanceof ViewRepointError) throw refuse(err.message);
          throw err;
        }
        const [info] = await ch.rows(selectTableInfo(target));
        if (info && PARTITION_KEY.exec(info.partition_key)?.[1] !== topBuild.partitionBy?.fn) {
          throw refuse(
            `its target ${qualifiedName(target)} is partitioned by "${info.partition_key}", the restated target by ` +
              `"${partitionKeyText(topBuild)}": a restate needs the same function of time at every level, so that a ` +
              'partition of one level is the partition of the same id of the next',
          );
        }
        const build = await restateBuildOf(ch, row.view_select, target, refuse);
        chain.push({ build: { ...build, view, reads }, target });
        next.push(target);
      }
    }
    level = next;
  }
  return chain;
}

/**
 * Plans a view restate: reads the view (a materialized view with a `TO` table, reading one table by its qualified
 * name and joining none), its target's engine, ORDER BY and partition function (`toYYYYMM(col)` or
 * `toYYYYMMDD(col)`), and the server's profile (refusing a server a replacing kind cannot write correctly); lists
 * the run's partitions (the job's, or those covering `from`..`to`) with the view's output rows and the target's
 * rows of each. Every partition not entirely before `writesEndBefore` is refused, named, before anything is done.
 *
 * Durability: read-only; safe to retry. A job that does not fit its tables fails non-retryably naming the field.
 */
export function planViewRestate({ clickhouse: ch, log }: ActivityDeps) {
  return ({ job, from, to }: Pick<ViewRestateInput, 'job' | 'from' | 'to'>): Promise<ViewRestatePlan> =>
    withHeartbeat(
      () => ({ step: 'plan' }),
      async () => {
        const view = (await tableResolver(ch))(job.view);
        const [found] = await ch.rows(selectRestateView(view));
        if (!found) throw new JobSpecError('view', `no table ${qualifiedName(view)}`);
        if (found.engine !== 'MaterializedView' || found.target_table === '') {
          throw new JobSpecError(
            'view',
            `${qualifiedName(view)} is ${found.engine === 'MaterializedView' ? 'a materialized view with an inner table (no TO table)' : `a ${found.engine} table, not a materialized view`}`,
          );
        }
        if (found.sources.length !== 1) {
          const names = found.sources.map(([d, n]) => `${d}.${n}`).join(', ') || 'none';
          throw new JobSpecError('view', `${qualifiedName(view)} must read exactly one table; it reads ${names}`);
        }
        const source = { database: found.sources[0][0], name: found.sources[0][1] };
        const target = { database: found.target_database, name: found.target_table };
        try {
          // Re-pointed onto itself: the checks of an import's view copies (read once, by qualified name, no join).
          repointViewSelect(found.as_select, source, source);
        } catch (err) {
          if (err instanceof ViewRepointError) throw new JobSpecError('view', `${qualifiedName(view)}: ${err.message}`);
          throw err;
        }
        const build = await restateBuildOf(ch, found.as_select, target, (why) => new JobSpecError('view', why));
        const chain = await chainFrom(ch, target, build);
        const ledger = { database: target.database, name: job.ledger.table };
        const levels = chain.map((l) => l.target);
        const server = await detectServerProfile(ch, [source, target, ...levels, ledger], {
          target,
          cluster: job.cluster,
        });
        refuseUnsupportedServer(server, target, job.safety, 'replace');

        const granularity = build.partitionBy?.fn === 'toYYYYMM' ? 'month' : 'day';
        let bounds;
        if (job.partitions) {
          if (from !== '' || to !== '')
            throw new JobSpecError('partitions', 'the job lists partitions: no --from/--to');
          bounds = job.partitions.map((id) => partitionFromId(id, granularity));
        } else {
          if (from === '' || to === '')
            throw new JobSpecError('partitions', 'give --from and --to, or list partitions');
          bounds = partitionsCovering(from, to, granularity);
        }
        const writesEnd = parseCutoff(job.writesEndBefore)!;
        const open = bounds.filter((b) => Date.parse(`${b.end}T00:00:00Z`) / 1000 > writesEnd);
        if (open.length > 0) {
          throw new JobSpecError(
            'writesEndBefore',
            `the live view ${qualifiedName(view)} can still write into partition ${open.map((b) => b.id).join(', ')} ` +
              `of ${qualifiedName(target)} (it does not end before ${job.writesEndBefore}); nothing was restated`,
          );
        }
        const dialect = dialectOf(server);
        const outputRows = new Map((await ch.rows(selectRestatePartitions(build))).map((r) => [r.id, Number(r.rows)]));
        const partitions = [];
        for (const b of bounds) {
          partitions.push({
            ...b,
            sourceRows: outputRows.get(b.id) ?? 0,
            targetRows: await partitionRows(ch, target, b.id, dialect),
            maxRowsPerKey: 0,
            salt: 1,
          });
        }
        const chained = [];
        for (const level of chain) {
          const targetRows: Record<string, number> = {};
          for (const b of bounds) targetRows[b.id] = await partitionRows(ch, level.target, b.id, dialect);
          chained.push({ ...level, targetRows });
        }
        log.info('planned view restate', { view: qualifiedName(view), partitions: partitions.length });
        return { view, source, target, build, partitions, server, ...(chained.length > 0 ? { chain: chained } : {}) };
      },
    );
}

/** The restate's planning activity, for createActivities. */
export function viewRestatePlanning(deps: ActivityDeps) {
  return { planViewRestate: planViewRestate(deps) };
}
