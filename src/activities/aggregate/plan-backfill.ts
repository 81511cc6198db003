import type { ClickHouse } from '../../clickhouse/clickhouse';
import type { Statement } from '../../clickhouse/statement';
import { isClickHouseError } from '../../clickhouse/clickhouse-error';
import { isMergeTreeFamily } from '../../clickhouse/engine-family';
import {
  MAX_TRUSTED_ROWS,
  type BackfillPlan,
  type PartitionPlan,
  type UnchangedPartitions,
} from '../../shared/backfill-results';
import type { AggregateJob } from '../../shared/job-spec';
import {
  partitionChange,
  type LedgerEntry,
  type OnlyMode,
  type PartitionChange,
  type SourceSnapshot,
} from '../../shared/ledger';
import { partitionFromId, partitionOf } from '../../shared/partitions';
import {
  createTargetTable,
  selectAggregation,
  selectDateExpression,
  selectMetric,
} from '../../sql/aggregate/aggregation';
import { aggregationShape, partitionFunction, type AggregationShape } from '../../sql/aggregate/aggregation-shape';
import { columnsOf, functionsOf, type Expr } from '../../shared/expression-syntax';
import { describeSelect, selectTableColumns, selectTableInfo, type TableColumn } from '../../sql/engine/introspection';
import { selectPartitionRowsBetween } from '../../sql/engine/partition-ops';
import { dialectOf, type ServerDialect } from '../../sql/engine/server-dialect';
import { selectSourcePartitionStats } from '../../sql/aggregate/source-stats';
import type { ActivityDeps } from '../engine/deps';
import { functionKinds } from '../engine/function-kinds';
import { JobSpecError } from '../engine/errors';
import { withHeartbeat } from '../engine/heartbeat';
import { jobDefinitionHash } from '../engine/job-definition-hash';
import { latestLedgerEntries, ledgerTableOf } from '../engine/ledger';
import { emptySnapshot, sourceHasParts, sourceSnapshots } from './source-fingerprint';
import { tableResolver } from '../engine/table-resolver';
import { detectServerProfile } from '../engine/server-profile';
import type { ServerProfile } from '../../shared/server-profile';
import { refuseUnsupportedServer } from '../engine/server-refusal';
import { partitionsPerShard, type ShardRows } from '../../shared/shard-partitions';
import { shardedPartitionId } from '../../shared/partition-lock';
import { selectSourceRowsPerShard, selectTargetRowsPerShard } from '../../sql/aggregate/shard-partition-rows';
import { checkShardedJob, refuseOnlyChangedSharded } from './sharding-check';
import { qualifiedName, type TableRef } from '../../shared/table-ref';

export interface PlanBackfillInput {
  job: AggregateJob;
  from: string;
  to: string;
  /** Which partitions to take; absent (inputs from before it): all. */
  only?: OnlyMode;
  /** With `only: failed`, the partitions to take. */
  partitions?: string[];
}

/** The metric expressions as the job wrote them, with the field each one came from. */
function expressionsOf(shape: AggregationShape): { field: string; args: Expr[] }[] {
  return [
    { field: 'date.expression', args: [shape.dateExpr] },
    ...shape.metrics.map((m) => ({ field: `metrics.${m.name}`, args: [...m.metric.params, ...m.metric.args] })),
  ];
}

async function checkSourceColumns(ch: ClickHouse, job: AggregateJob, shape: AggregationShape, source: TableRef) {
  const columns = await ch.rows(selectTableColumns(source));
  if (columns.length === 0) {
    throw new JobSpecError('source.table', `table ${qualifiedName(source)} does not exist`);
  }
  const known = new Set(columns.map((c) => c.name));
  const missing = (field: string, name: string) =>
    new JobSpecError(
      field,
      `column "${name}" does not exist in ${qualifiedName(source)} (it has: ${[...known].join(', ')})`,
    );
  if (!known.has(job.source.timeColumn)) throw missing('source.timeColumn', job.source.timeColumn);
  job.keys.forEach((k, i) => {
    if (!known.has(k)) throw missing(`keys.${i}`, k);
  });
  for (const { field, args } of expressionsOf(shape)) {
    for (const name of args.flatMap(columnsOf)) if (!known.has(name)) throw missing(field, name);
  }
}

async function checkFunctions(ch: ClickHouse, shape: AggregationShape) {
  const inner = [shape.dateExpr, ...shape.metrics.flatMap((m) => [...m.metric.params, ...m.metric.args])];
  const names = [...new Set([...inner.flatMap(functionsOf), ...shape.metrics.map((m) => m.metric.fn)])];
  const kinds = await functionKinds(ch, names);
  for (const m of shape.metrics) {
    if (!kinds.isAggregate(m.metric.fn)) {
      const what = kinds.known(m.metric.fn) ? 'is not an aggregate function' : 'is not a known aggregate function';
      throw new JobSpecError(`metrics.${m.name}`, `"${m.metric.fn}" ${what}; a metric must be e.g. sum(x) or count()`);
    }
    for (const fn of [...m.metric.params, ...m.metric.args].flatMap(functionsOf)) {
      if (kinds.isAggregate(fn))
        throw new JobSpecError(`metrics.${m.name}`, `aggregate "${fn}" cannot be nested in an aggregate`);
      if (!kinds.known(fn)) throw new JobSpecError(`metrics.${m.name}`, `unknown function "${fn}"`);
    }
  }
  for (const fn of functionsOf(shape.dateExpr)) {
    if (kinds.isAggregate(fn)) {
      throw new JobSpecError('date.expression', `"${fn}" is an aggregate; the date must be per row`);
    }
    if (!kinds.known(fn)) throw new JobSpecError('date.expression', `unknown function "${fn}"`);
  }
}

/** TableColumn types of a SELECT; ClickHouse refusing it is blamed on `field`. */
async function describe(ch: ClickHouse, select: Statement, field: string): Promise<TableColumn[]> {
  try {
    return await ch.rows(describeSelect(select));
  } catch (err) {
    if (isClickHouseError(err)) {
      throw new JobSpecError(field, `ClickHouse refused it: ${err.message}`, { cause: err });
    }
    throw err;
  }
}

/** The output columns of the aggregation, after checking the date and each metric on its own. */
async function describeOutput(ch: ClickHouse, job: AggregateJob, shape: AggregationShape, source: TableRef) {
  const [date] = await describe(ch, selectDateExpression(shape, source), 'date.expression');
  if (!/^(Nullable\()?Date(32)?\)?$/.test(date.type)) {
    throw new JobSpecError('date.expression', `"${job.date.expression}" yields ${date.type}, not a Date`);
  }
  for (const metric of shape.metrics) await describe(ch, selectMetric(metric, source), `metrics.${metric.name}`);
  return describe(ch, selectAggregation(shape, source, partitionOf('1970-01-01', 'month'), 1), 'metrics');
}

/** Refuses an existing target whose engine, partitioning or columns differ from what the job produces. */
async function checkExistingTarget(
  ch: ClickHouse,
  shape: AggregationShape,
  target: TableRef,
  expected: TableColumn[],
): Promise<boolean> {
  const [info] = await ch.rows(selectTableInfo(target));
  if (!info) return false;
  const field = 'target.table';
  if (!isMergeTreeFamily(info.engine)) {
    throw new JobSpecError(
      field,
      `${qualifiedName(target)} uses engine ${info.engine}; a MergeTree-family table is needed`,
    );
  }
  const partitionKey = `${partitionFunction(shape.granularity)}(${shape.dateColumn})`;
  if (info.partition_key !== partitionKey) {
    throw new JobSpecError(
      field,
      `${qualifiedName(target)} is partitioned by "${info.partition_key}", but this job writes partitions by "${partitionKey}"`,
    );
  }
  const actual = await ch.rows(selectTableColumns(target));
  const render = (cols: TableColumn[]) => cols.map((c) => `${c.name} ${c.type}`).join(', ');
  if (render(actual) !== render(expected)) {
    throw new JobSpecError(
      field,
      `${qualifiedName(target)} does not match the job: it has (${render(actual)}), the job produces (${render(expected)})`,
    );
  }
  return true;
}

/** Inner groups per key: enough that no group holds more than about `chunkSize` rows of the largest key. */
export function saltFor(maxRowsPerKey: number, chunkSize: number): number {
  return Math.max(1, Math.ceil(maxRowsPerKey / chunkSize));
}

/**
 * Every partition of the range that the source or the live target has rows in, in order: a range means the whole
 * range, so a partition the source lost is planned too (with no source rows), and its swap empties it.
 */
function mergePartitions(
  stats: { id: string; rows: string; max_rows_per_key: string }[],
  live: { id: string; live_rows: string }[],
  job: AggregateJob,
): PartitionPlan[] {
  const targetRows = new Map(live.map((p) => [p.id, Number(p.live_rows)]));
  const planned = new Map<string, PartitionPlan>();
  for (const s of stats) {
    const maxRowsPerKey = Number(s.max_rows_per_key);
    planned.set(s.id, {
      ...partitionFromId(s.id, job.partitionBy),
      sourceRows: Number(s.rows),
      targetRows: targetRows.get(s.id) ?? 0,
      maxRowsPerKey,
      salt: saltFor(maxRowsPerKey, job.chunkSize),
    });
  }
  for (const [id, rows] of targetRows) {
    if (!planned.has(id))
      planned.set(id, {
        ...partitionFromId(id, job.partitionBy),
        sourceRows: 0,
        targetRows: rows,
        maxRowsPerKey: 0,
        salt: 1,
      });
  }
  return [...planned.values()].sort((a, b) => a.id.localeCompare(b.id));
}

/** A job checked against its tables: its parsed shape, the resolved tables and the output's columns. */
export interface CheckedJob {
  shape: AggregationShape;
  source: TableRef;
  target: TableRef;
  targetExisted: boolean;
}

/**
 * Checks the job against the source and an existing target, without any DDL: the refusals of a backfill's plan, each
 * naming the job's field.
 */
export async function checkJob(ch: ClickHouse, job: AggregateJob): Promise<CheckedJob> {
  const shape = aggregationShape(job);
  const resolve = await tableResolver(ch);
  const source = resolve(job.source.table);
  const target = resolve(job.target.table);
  await checkSourceColumns(ch, job, shape, source);
  await checkFunctions(ch, shape);
  const output = await describeOutput(ch, job, shape, source);
  const targetExisted = await checkExistingTarget(ch, shape, target, output);
  return { shape, source, target, targetExisted };
}

/**
 * The partitions of `[from, to]` that the source or the target has rows in, with their rows and salts. The
 * target's rows are what earlier runs' swaps left: on Cloud counted with sequential consistency (`dialect`, from
 * the plan's server profile), not from one replica's part list.
 */
export async function partitionsOfRange(
  ch: ClickHouse,
  job: AggregateJob,
  checked: CheckedJob,
  from: string,
  to: string,
  dialect: ServerDialect,
): Promise<PartitionPlan[]> {
  const { shape, source, target, targetExisted } = checked;
  const first = partitionOf(from, shape.granularity);
  const last = partitionOf(to, shape.granularity);
  const stats = await ch.rows(selectSourcePartitionStats(shape, source, { start: first.start, end: last.end }));
  const live = targetExisted ? await ch.rows(selectPartitionRowsBetween(target, first.id, last.id, dialect)) : [];
  return mergePartitions(stats, live, job);
}

/**
 * On a sharded cluster the plan's partitions one per `(partition, shard)` ({@link partitionsPerShard}), each with
 * its own shard's source and target rows, read through the Distributed tables grouped by `_shard_num`; the
 * partitions as they are elsewhere.
 */
export async function partitionsPerShardOf(
  ch: ClickHouse,
  checked: CheckedJob,
  ranged: PartitionPlan[],
  server: ServerProfile,
): Promise<PartitionPlan[]> {
  if (!server.sharding) return ranged;
  if (ranged.length === 0) return [];
  const { shape, source, target, targetExisted } = checked;
  const first = ranged[0];
  const last = ranged[ranged.length - 1];
  const rows: ShardRows = new Map();
  const at = (id: string, shard: string) => {
    const key = shardedPartitionId(id, Number(shard));
    const entry = rows.get(key) ?? { sourceRows: 0, targetRows: 0 };
    rows.set(key, entry);
    return entry;
  };
  for (const r of await ch.rows(selectSourceRowsPerShard(shape, source, { start: first.start, end: last.end })))
    at(r.id, r.shard).sourceRows = Number(r.rows);
  if (targetExisted)
    for (const r of await ch.rows(selectTargetRowsPerShard(target, first.id, last.id)))
      at(r.id, r.shard).targetRows = Number(r.rows);
  return partitionsPerShard(ranged, server.sharding.shards, rows);
}

/**
 * Whether each partition changed since the ledger's newest row of it (see `partitionChange`), by partition id: one
 * pass over the source's date columns for the fingerprints, one read of the ledger (with sequential consistency
 * on Cloud: `dialect`, from the plan's server profile).
 */
export async function changesOf(
  ch: ClickHouse,
  job: AggregateJob,
  checked: CheckedJob,
  partitions: PartitionPlan[],
  dialect: ServerDialect,
): Promise<{
  changes: Map<string, PartitionChange>;
  entries: Map<string, LedgerEntry>;
  snapshots?: Map<string, SourceSnapshot>;
}> {
  const changes = new Map<string, PartitionChange>();
  if (partitions.length === 0) return { changes, entries: new Map() };
  const { shape, source, target } = checked;
  const range = { start: partitions[0].start, end: partitions[partitions.length - 1].end };
  const snapshots = await sourceSnapshots(ch, source, shape, range);
  const ledger = ledgerTableOf(job, target);
  const entries = ledger
    ? await latestLedgerEntries(ch, ledger, target, partitions[0].id, partitions[partitions.length - 1].id, dialect)
    : new Map<string, LedgerEntry>();
  const jobHash = jobDefinitionHash(job, source);
  for (const p of partitions) {
    const current = snapshots && (snapshots.get(p.id) ?? emptySnapshot()).fingerprint;
    changes.set(p.id, partitionChange(current, entries.get(p.id), jobHash, p.targetRows));
  }
  return { changes, entries, snapshots };
}

/** The partitions `--only changed` leaves out, with the ledger rows it trusted for them; undefined when none. */
export function unchangedPartitions(
  partitions: PartitionPlan[],
  changes: Map<string, PartitionChange>,
  entries: Map<string, LedgerEntry>,
): UnchangedPartitions | undefined {
  const trusted = partitions.flatMap((p) => {
    const entry = entries.get(p.id);
    return changes.get(p.id)?.changed === false && entry ? [entry] : [];
  });
  if (trusted.length === 0) return undefined;
  return {
    count: trusted.length,
    since: trusted.map((e) => e.swappedAt).reduce((a, b) => (b > a ? b : a)),
    rows: trusted.slice(0, MAX_TRUSTED_ROWS).map((e) => ({
      partition: e.partition,
      swappedAt: e.swappedAt,
      writer: e.writer,
      targetRows: e.targetRows,
    })),
  };
}

/** The partitions a mode takes: `changes` is needed for `changed`, `failed` for `failed`. */
export function partitionsTaken(
  only: OnlyMode,
  partitions: PartitionPlan[],
  changes: Map<string, PartitionChange> | undefined,
  failed: string[] | undefined,
): PartitionPlan[] {
  switch (only) {
    case 'all':
      return partitions;
    case 'missing':
      return partitions.filter((p) => p.sourceRows > 0 && p.targetRows === 0);
    case 'changed':
      return partitions.filter((p) => changes?.get(p.id)?.changed ?? true);
    case 'failed': {
      const wanted = new Set(failed ?? []);
      return partitions.filter((p) => wanted.has(p.id));
    }
  }
}

/**
 * Plans a backfill: checks the job against the source and an existing target, reads the server's profile
 * (refusing a server it cannot write correctly, see `refuseUnsupportedServer`), creates the target when it is
 * missing, and lists the partitions of the range that the source or the target has rows in, with their salts; of
 * those, the ones `only` takes (all when absent: inputs from before `only` existed).
 *
 * Durability: read-only except `CREATE TABLE IF NOT EXISTS` of the target, which runs only after every check
 * passed; safe to retry. A job that does not fit its tables fails non-retryably naming the field.
 */
export function planBackfill({ clickhouse: ch, log }: ActivityDeps) {
  return async ({ job, from, to, only = 'all', partitions: failed }: PlanBackfillInput): Promise<BackfillPlan> =>
    withHeartbeat(
      () => ({ step: 'plan' }),
      async () => {
        const checked = await checkJob(ch, job);
        const { shape, source, target, targetExisted } = checked;
        const ledger = ledgerTableOf(job, target);
        const server = await detectServerProfile(ch, [source, target, ...(ledger ? [ledger] : [])], {
          target,
          cluster: job.cluster,
        });
        refuseUnsupportedServer(server, target, job.safety, 'replace', { perShard: true });
        const stated = checkShardedJob(server, job, { source, target });
        if (stated) log.warn("sharded job run on the job's word", { consequence: stated });
        if (!targetExisted) await ch.exec(createTargetTable(shape, source, target));
        // The server is known before the target and the ledger are read: on Cloud they are read consistently.
        const dialect = dialectOf(server);
        refuseOnlyChangedSharded(server, only);
        const ranged = await partitionsOfRange(ch, job, checked, from, to, dialect);
        // On a sharded cluster each partition runs per shard: one entry per (partition, shard), with its rows.
        const all = await partitionsPerShardOf(ch, checked, ranged, server);
        const changed = only === 'changed' ? await changesOf(ch, job, checked, all, dialect) : undefined;
        const partitions = partitionsTaken(only, all, changed?.changes, failed);
        const unchanged = changed && unchangedPartitions(all, changed.changes, changed.entries);
        log.info('planned backfill', {
          source: qualifiedName(source),
          target: qualifiedName(target),
          partitions: partitions.length,
          only,
          skipped: all.length - partitions.length,
        });
        return {
          source,
          target,
          targetCreated: !targetExisted,
          sourceHasParts: await sourceHasParts(ch, source),
          partitions,
          server,
          ...(unchanged ? { unchanged } : {}),
        };
      },
    );
}
