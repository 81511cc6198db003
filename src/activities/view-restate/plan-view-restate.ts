import type { ClickHouse } from '../../clickhouse/clickhouse';
import type { PartitionPlan } from '../../shared/backfill-results';
import { functionsOf } from '../../shared/expression-syntax';
import { partitionChange, type LedgerEntry, type PartitionChange } from '../../shared/ledger';
import { isPlainIdentifier } from '../../shared/plain-identifier';
import { parseCutoff } from '../../shared/job-spec';
import { partitionFromId, partitionsCovering } from '../../shared/partitions';
import type { RestateChainBuild, ViewRestateBuild } from '../../shared/partition-task';
import { qualifiedName, type TableRef } from '../../shared/table-ref';
import type { ViewRestateInput, ViewRestatePlan } from '../../shared/view-restate-input';
import { selectTableColumns, selectTableInfo } from '../../sql/engine/introspection';
import { selectDependentViews } from '../../sql/import/import';
import { MAX_CHAIN_DEPTH } from '../import/plan-import';
import { repointViewSelect, ViewRepointError } from '../../sql/import/repoint-view-select';
import { dialectOf, type ServerDialect } from '../../sql/engine/server-dialect';
import { selectAggregateFunctions, selectRestatePartitions, selectRestateView } from '../../sql/view-restate/restate';
import { sourceDateOf, sourceDayOf, type SourceDate } from '../../sql/view-restate/source-date';
import { partitionsTaken, unchangedPartitions } from '../aggregate/plan-backfill';
import { emptySnapshot, sourceHasParts, sourceSnapshots } from '../aggregate/source-fingerprint';
import { latestLedgerEntries } from '../engine/ledger';
import { restateDefinitionHash } from './restate-steps';
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
 * rows of each. Every partition not entirely before `writesEndBefore` is refused, named, before anything is done,
 * unless the job says ingestion is `paused-by-operator`: then those are listed in `afterConfirm`.
 *
 * Durability: read-only; safe to retry. A job that does not fit its tables fails non-retryably naming the field.
 */
export function planViewRestate({ clickhouse: ch, log }: ActivityDeps) {
  return ({ job, from, to, only }: Pick<ViewRestateInput, 'job' | 'from' | 'to' | 'only'>): Promise<ViewRestatePlan> =>
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
        const stored = await restateBuildOf(ch, found.as_select, target, (why) => new JobSpecError('view', why));
        const chain = await chainFrom(ch, target, stored);
        const day = await sourceDayFor(ch, found.as_select, stored.partitionBy!.column, source);
        const build: ViewRestateBuild = { ...stored, ...('expr' in day ? { sourceDay: sourceDayOf(day.expr) } : {}) };
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
        const writesEnd = job.writesEndBefore === undefined ? -Infinity : parseCutoff(job.writesEndBefore)!;
        const open = bounds.filter((b) => Date.parse(`${b.end}T00:00:00Z`) / 1000 > writesEnd);
        if (open.length > 0 && job.ingestion !== 'paused-by-operator') {
          throw new JobSpecError(
            'writesEndBefore',
            `the live view ${qualifiedName(view)} can still write into partition ${open.map((b) => b.id).join(', ')} ` +
              `of ${qualifiedName(target)} (it does not end before ${job.writesEndBefore}); nothing was restated ` +
              '(or set ingestion: paused-by-operator to restate them once ingestion is paused and confirmed)',
          );
        }
        const dialect = dialectOf(server);
        const outputRows = new Map((await ch.rows(selectRestatePartitions(build))).map((r) => [r.id, Number(r.rows)]));
        const all = [];
        for (const b of bounds) {
          all.push({
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
        let partitions = all;
        let unchanged;
        if (only === 'changed') {
          const changes = await changesOf(ch, { source, target, build, ledger, chain: chained }, all, dialect);
          partitions = partitionsTaken('changed', all, changes.changes, undefined);
          unchanged = unchangedPartitions(all, changes.changes, changes.entries);
        }
        const taken = new Set(partitions.map((p) => p.id));
        const afterConfirm = open.map((b) => b.id).filter((id) => taken.has(id));
        log.info('planned view restate', { view: qualifiedName(view), partitions: partitions.length, only });
        return {
          view,
          source,
          target,
          build,
          partitions,
          server,
          ...(chained.length > 0 ? { chain: chained } : {}),
          ...(afterConfirm.length ? { afterConfirm } : {}),
          ...('reason' in day ? { noFingerprint: day.reason } : {}),
          ...(unchanged ? { unchanged } : {}),
        };
      },
    );
}

/**
 * Which source rows feed each target partition (see src/sql/view-restate/source-date.ts), or why the ledger cannot
 * tell: the expression the view gives the partition column must read only source columns and call no aggregate
 * function, and the source must be a MergeTree table (its parts are what a fingerprint is made of).
 */
async function sourceDayFor(ch: ClickHouse, select: string, column: string, source: TableRef): Promise<SourceDate> {
  if (!(await sourceHasParts(ch, source)))
    return { reason: `the source ${qualifiedName(source)} is not a MergeTree table` };
  const sourceColumns = (await ch.rows(selectTableColumns(source))).map((c) => c.name);
  const day = sourceDateOf(select, column, sourceColumns);
  if ('reason' in day) return day;
  const aggregates = await ch.rows(selectAggregateFunctions(functionsOf(day.expr)));
  if (aggregates.length > 0) {
    return {
      reason: `the view computes ${column} with the aggregate function ${aggregates.map((a) => a.name).join(', ')}`,
    };
  }
  return day;
}

/**
 * Whether each partition changed since the ledger's newest row of it (`partitionChange`): the source's fingerprint
 * of its rows by `build.sourceDay` (none when the view's query does not say: every partition is then changed), the
 * ledger read with sequential consistency on Cloud (`dialect`). A chain is restated whole, partition by partition,
 * so the restated target's row (its swap is the last of a chain's, deepest first) decides for every level; a level
 * below it only adds reasons to restate: no ledger row of its own, its view's query changed since, or other live rows.
 */
async function changesOf(
  ch: ClickHouse,
  tables: {
    source: TableRef;
    target: TableRef;
    build: ViewRestateBuild;
    ledger: TableRef;
    chain: NonNullable<ViewRestatePlan['chain']>;
  },
  partitions: PartitionPlan[],
  dialect: ServerDialect,
): Promise<{ changes: Map<string, PartitionChange>; entries: Map<string, LedgerEntry> }> {
  const { source, target, build, ledger, chain } = tables;
  const changes = new Map<string, PartitionChange>();
  if (partitions.length === 0) return { changes, entries: new Map() };
  const first = partitions[0].id;
  const last = partitions[partitions.length - 1].id;
  const range = { start: partitions[0].start, end: partitions[partitions.length - 1].end };
  const granularity = build.partitionBy?.fn === 'toYYYYMMDD' ? 'day' : 'month';
  const snapshots = build.sourceDay
    ? await sourceSnapshots(ch, source, { dateExpr: build.sourceDay, granularity }, range)
    : undefined;
  const entries = await latestLedgerEntries(ch, ledger, target, first, last, dialect);
  const hash = restateDefinitionHash(source, build);
  for (const p of partitions) {
    const current = snapshots && (snapshots.get(p.id) ?? emptySnapshot()).fingerprint;
    changes.set(p.id, partitionChange(current, entries.get(p.id), hash, p.targetRows));
  }
  for (const level of chain) {
    // The name a level's ledger row carries (qualified when the level is in another database than the ledger).
    const named =
      level.target.database === ledger.database
        ? level.target
        : { database: ledger.database, name: qualifiedName(level.target) };
    const rows = await latestLedgerEntries(ch, ledger, named, first, last, dialect);
    const { view, reads, ...stored } = level.build;
    const levelHash = restateDefinitionHash(reads, stored);
    for (const p of partitions) {
      if (changes.get(p.id)?.changed !== false) continue;
      const entry = rows.get(p.id);
      const of = `${qualifiedName(level.target)} (view ${qualifiedName(view)})`;
      if (!entry) changes.set(p.id, { changed: true, reason: `${of} is not in the ledger` });
      else if (entry.jobHash !== levelHash) {
        changes.set(p.id, { changed: true, reason: `${of}: view definition changed since ${entry.writer}` });
      } else if (entry.targetRows !== (level.targetRows[p.id] ?? 0)) {
        const reason = `${of} holds ${level.targetRows[p.id] ?? 0} rows, the ledger recorded ${entry.targetRows}`;
        changes.set(p.id, { changed: true, reason });
      }
    }
  }
  return { changes, entries };
}

/** The restate's planning activity, for createActivities. */
export function viewRestatePlanning(deps: ActivityDeps) {
  return { planViewRestate: planViewRestate(deps) };
}
