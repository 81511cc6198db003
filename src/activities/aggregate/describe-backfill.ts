import type { Statement } from '../../clickhouse/statement';
import type { PartitionPlan } from '../../shared/backfill-results';
import type { BackfillDescription, PartitionDescription, PlannedStatement } from '../../shared/backfill-description';
import { ONLY_MODES, type OnlyMode } from '../../shared/ledger';
import { estimateRun } from '../../shared/run-estimate';
import { DESCRIBED_WRITER_TAG } from '../../shared/view-input';
import { backupTableFor, shadowTableFor } from '../../shared/writer-tables';
import { createTargetTable } from '../../sql/aggregate/aggregation';
import { insertLedgerRow, selectMeasuredBuilds } from '../../sql/engine/ledger';
import { aggregatePartitionStatements } from './aggregate-partition-statements';
import { dialectOf } from '../../sql/engine/server-dialect';
import { detectServerProfile } from '../engine/server-profile';
import { refuseUnsupportedServer } from '../engine/server-refusal';
import { shardedAggregateTask, shardedLocalTarget } from '../../shared/shard-partitions';
import { checkShardedJob, refuseOnlyChangedSharded } from './sharding-check';
import type { ActivityDeps } from '../engine/deps';
import { fansOut } from '../engine/cluster-ddl';
import { withHeartbeat } from '../engine/heartbeat';
import { jobDefinitionHash } from '../engine/job-definition-hash';
import { fingerprintColumns, ledgerTableOf, readLedger } from '../engine/ledger';
import {
  changesOf,
  checkJob,
  partitionsOfRange,
  partitionsPerShardOf,
  partitionsTaken,
  type PlanBackfillInput,
} from './plan-backfill';
import { tableExists } from '../engine/step-runner';
import type { AggregatePartitionTask } from '../../shared/partition-task';

/** How many of the ledger's newest measured builds of the target the estimate is drawn from. */
const ESTIMATE_SAMPLE = 50;

/** Why a mode leaves a partition out, in the words of `plan`'s action column (the ledger's own words are beside it). */
function skipReason(only: OnlyMode, p: PartitionPlan, retryOf?: string): string {
  if (only === 'changed') return 'unchanged';
  if (only === 'missing') return p.targetRows > 0 ? 'the target has it' : 'no source rows';
  return `did not fail in ${retryOf ?? 'the earlier backfill'}`;
}

/**
 * Every statement one partition's steps would send, in order, rendered by the functions the steps run
 * ({@link aggregatePartitionStatements}): prepare, the build (with the fingerprint read before its INSERT),
 * validation's reads, the backup when the live partition has rows, the swap (REPLACE, or DROP PARTITION when the
 * source has no rows) with its ledger record (`createsLedger`: after the record's first attempt finds no ledger, its
 * creation), and the cleanup.
 */
export function plannedPartitionStatements(task: AggregatePartitionTask, createsLedger: boolean): PlannedStatement[] {
  const s = aggregatePartitionStatements(task);
  const { partition } = task;
  const at = (step: string) => `partition ${partition.id}: ${step}`;
  const ledger = ledgerTableOf(task.job, task.target);
  const swap = [...s.beforeSwap, ...(partition.sourceRows > 0 ? s.replace : partition.targetRows > 0 ? [s.empty] : [])];
  // On a replicated cluster the ledger is created on every replica, answering per host like the other DDL.
  const ddlSettings = dialectOf(task.server).ddlSettings;
  const ledgerDdl = ddlSettings ? { settings: ddlSettings } : {};
  const record = ledger
    ? [
        ...(createsLedger
          ? [
              {
                step: at('swap'),
                ...dialectOf(task.server).createLedger(ledger),
                ...ledgerDdl,
                note: 'the ledger does not exist yet: the first swap creates it',
              },
            ]
          : []),
        {
          step: at('swap'),
          ...insertLedgerRow(ledger, placeholderRecord(task)),
          params: {},
          note: 'params: the swap values (time, source fingerprint, target rows, job, build time)',
        },
      ]
    : [];
  // DDL that reaches several hosts runs with the settings that make it answer per host (a replicated cluster).
  const ddl = s.ddlSettings ? { settings: s.ddlSettings } : {};
  // So do the cluster-wide syncs (SYSTEM SYNC REPLICA ON CLUSTER), which go through the same DDL queue.
  const synced = (st: Statement) => (fansOut(st) ? ddl : {});
  return [
    ...s.prepare.map((st) => ({ step: at('prepare'), ...st, ...ddl })),
    { step: at('insert'), ...s.fingerprint },
    { step: at('insert'), ...s.insert, settings: task.job.insertSettings as Record<string, number> },
    ...s.afterFill.map((st) => ({ step: at('insert'), ...st, ...synced(st) })),
    ...s.validate.map((st) => ({ step: at('validate'), ...st })),
    ...(partition.targetRows > 0
      ? s.backup.map((st, i) => ({ step: at('backup'), ...st, ...(i === 0 ? ddl : synced(st)) }))
      : []),
    ...swap.map((st) => ({ step: at('swap'), ...st, ...synced(st) })),
    ...record,
    ...s.cleanup.map((st) => ({ step: at('cleanup'), ...st, ...ddl })),
  ];
}

/** A ledger record of the partition, only to render the INSERT's text: its values come from the swap. */
function placeholderRecord(task: AggregatePartitionTask): Parameters<typeof insertLedgerRow>[1] {
  return {
    target: task.target.name,
    partition: task.partition.id,
    writer: '',
    writer_run: '',
    build: 'rebuild',
    action: '',
    job_hash: '',
    source: '',
    ...fingerprintColumns(undefined),
    note: '',
    target_rows: 0,
    rows_read: 0,
    build_ms: 0,
    peak_memory: null,
  };
}

export interface DescribeBackfillInput extends PlanBackfillInput {
  /** With `only: failed`: the backfill whose failed partitions `partitions` lists (for the words only). */
  retryOf?: string;
}

/** A backfill's dry run, for `ch-backfill plan` and `start --dry-run`. */
export function describeBackfillActivities({ clickhouse: ch }: ActivityDeps) {
  return {
    /**
     * What a backfill of the job and range started now would do, without any DDL or write: the plan's checks (the
     * same refusals), every partition of the range with its source rows and bytes, target rows, salt and whether
     * it changed since the ledger's newest row of it, which partitions each mode takes and the action each
     * partition gets under `only`, every statement the taken partitions' steps would send (rendered by the
     * functions the steps run; shadows and the backup named with {@link DESCRIBED_WRITER_TAG}), and an estimate
     * from the ledger's measured builds.
     *
     * Durability: read-only; creates nothing, so repeating it is harmless.
     */
    async describeBackfill(input: DescribeBackfillInput): Promise<BackfillDescription> {
      const { job, from, to, only = 'all', partitions: failed, retryOf } = input;
      return withHeartbeat(
        () => ({ step: 'describe' }),
        async () => {
          const checked = await checkJob(ch, job);
          const { shape, source, target, targetExisted } = checked;
          const ledgerTable = ledgerTableOf(job, target);
          const server = await detectServerProfile(ch, [source, target, ...(ledgerTable ? [ledgerTable] : [])], {
            target,
            cluster: job.cluster,
          });
          refuseUnsupportedServer(server, target, job.safety, 'replace', { perShard: true });
          const stated = checkShardedJob(server, job, { source, target });
          // The server is known before the target and the ledger are read: on Cloud they are read consistently.
          const dialect = dialectOf(server);
          refuseOnlyChangedSharded(server, only);
          const ranged = await partitionsOfRange(ch, job, checked, from, to, dialect);
          // On a sharded cluster each partition runs per shard, as the backfill's plan lists them.
          const all = await partitionsPerShardOf(ch, checked, ranged, server);
          const { changes, snapshots } = await changesOf(ch, job, checked, all, dialect);
          const modes: BackfillDescription['modes'] = {};
          for (const mode of ONLY_MODES) {
            // `changed` is refused on a sharded cluster (refuseOnlyChangedSharded): not listed as a mode there.
            if (mode === 'changed' && server.sharding) continue;
            if (mode !== 'failed' || failed) modes[mode] = partitionsTaken(mode, all, changes, failed).map((p) => p.id);
          }
          const taken = partitionsTaken(only, all, changes, failed);
          const takenIds = new Set(taken.map((p) => p.id));
          const partitions = all.map((p): PartitionDescription => {
            const change = changes.get(p.id) ?? { changed: true, reason: 'not in the ledger' };
            const action = !takenIds.has(p.id)
              ? `skip: ${skipReason(only, p, retryOf)}`
              : p.sourceRows > 0
                ? 'rebuild'
                : 'empty a stale partition';
            const bytes = snapshots && (snapshots.get(p.id)?.fingerprint.bytes ?? 0);
            return {
              id: p.id,
              sourceRows: p.sourceRows,
              sourceBytes: bytes === undefined ? undefined : Math.round(bytes),
              targetRows: p.targetRows,
              salt: p.salt,
              change,
              taken: takenIds.has(p.id),
              action,
            };
          });

          const backup = backupTableFor(shardedLocalTarget({ target, server }) ?? target, DESCRIBED_WRITER_TAG);
          const statements: PlannedStatement[] = targetExisted
            ? []
            : [{ step: 'create the target', ...createTargetTable(shape, source, target) }];
          let ledgerMissing = ledgerTable !== undefined && !(await tableExists(ch, ledgerTable));
          for (const partition of taken) {
            const common = { job, build: { kind: 'rebuild' } as const, backup, maxShrink: job.safety.maxShrink };
            const task = shardedAggregateTask(common, { source, target, server }, partition, DESCRIBED_WRITER_TAG) ?? {
              ...common,
              source,
              target,
              shadow: shadowTableFor(target, partition.id, DESCRIBED_WRITER_TAG),
              partition,
              server,
            };
            statements.push(...plannedPartitionStatements(task, ledgerMissing));
            ledgerMissing = false;
          }

          const ledger = ledgerTableOf(job, target) ?? { database: target.database, name: '' };
          const jobHash = jobDefinitionHash(job, source);
          const sample = await readLedger(
            ch,
            ledger,
            dialect.consistentRead(selectMeasuredBuilds(ledger, target.name, ESTIMATE_SAMPLE)),
            dialect,
          );
          return {
            source,
            target,
            targetExists: targetExisted,
            ledger,
            jobHash,
            only,
            fingerprints: snapshots !== undefined,
            partitions,
            modes,
            statements,
            estimate: estimateRun(sample, jobHash, taken, job.parallelism),
            server,
            ...(stated ? { shardingStated: stated } : {}),
          };
        },
      );
    },
  };
}
