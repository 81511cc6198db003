import type { ServerProfile } from './server-profile';
import type { OnlyMode, PartitionChange } from './ledger';
import type { RunEstimate } from './run-estimate';
import type { TableRef } from './table-ref';
import type { DescribedStatement } from './described-statement';

/** One statement of a dry run; `note` says what it shows instead of values only the run knows. */
export interface PlannedStatement extends DescribedStatement {
  note?: string;
}

/** One partition of the range as `ch-backfill plan` shows it. */
export interface PartitionDescription {
  id: string;
  sourceRows: number;
  /** The source rows' share of their parts' bytes on disk; absent without a fingerprint (not a MergeTree source). */
  sourceBytes?: number;
  targetRows: number;
  salt: number;
  /** Against the ledger's newest row of the partition (what `--only changed` decides by). */
  change: PartitionChange;
  /** Whether the chosen mode takes it. */
  taken: boolean;
  /** `rebuild`, `empty a stale partition` (source empty, target not), or `skip: <why>`. */
  action: string;
}

/** What a backfill of the job and range would do if started now: the answer of the `describeBackfill` activity. */
export interface BackfillDescription {
  source: TableRef;
  target: TableRef;
  targetExists: boolean;
  ledger: TableRef;
  jobHash: string;
  only: OnlyMode;
  /** False when the source has no fingerprint (not a MergeTree table): `changed` then takes every partition. */
  fingerprints: boolean;
  partitions: PartitionDescription[];
  /** The partitions each mode would take; `failed` only when an earlier backfill was given. */
  modes: Partial<Record<OnlyMode, string[]>>;
  /** Every statement of the taken partitions' steps, in the order a run sends them (shadows named with `TAG`). */
  statements: PlannedStatement[];
  estimate: RunEstimate;
  /** The server the run would write, as the plan finds it. */
  server: ServerProfile;
  /** On a sharded cluster, when the job states `sharding.keyFollowsJobKeys`: what the run then rests on. */
  shardingStated?: string;
}
