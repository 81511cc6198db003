import type { ServerProfile } from './server-profile';
import type { BackfillSummary } from './backfill-results';
import type { TableRef } from './table-ref';
import type { DescribedStatement } from './described-statement';

/**
 * A `cutoff: snapshot` view job (the ClickHouse guide's last scenario) runs as `viewSnapshotWorkflow`, whose input
 * is the view workflow's: `{ job }` (src/shared/view-input.ts `viewBackfillInputSchema`).
 */

/** The tables of a snapshot job, resolved, and the snapshot table its run takes of the source. */
export interface SnapshotPlan {
  source: TableRef;
  target: TableRef;
  view: TableRef;
  /** `<source>_snapshot_<writer tag>` (src/shared/writer-tables.ts). */
  snapshot: TableRef;
  targetExisted: boolean;
  /** The server as the plan found it (src/sql/engine/server-dialect.ts); absent: the embedded engine. */
  server?: ServerProfile;
}

/**
 * The outcome of taking the snapshot, or of creating the view after it: done (`rows` in the snapshot), or not,
 * because rows kept arriving in the source (`reason`): inserts were not paused, and the job waits for another
 * `confirm`.
 */
export type SnapshotOutcome = { ok: true; rows: number } | { ok: false; reason: string };

/** What a snapshot job returns: the backfill summary (`from`/`to` empty: it filled every row) and its snapshot. */
export interface ViewSnapshotSummary extends BackfillSummary {
  view: string;
  /** The snapshot table (`database.table`), dropped when the job completed. */
  snapshot: string;
  snapshotRows: number;
  /** When the view was created, UTC (`YYYY-MM-DDThh:mm:ssZ`): inserts could resume from then on. */
  insertsMayResumeAt: string;
}

/** What a snapshot job would do if confirmed now: the answer of the `describeViewSnapshot` activity (a dry run). */
export interface SnapshotDescription {
  plan: SnapshotPlan;
  /** The source's partitions, each attached to the snapshot, with their rows now. */
  sourcePartitions: { id: string; rows: number }[];
  /** The target partitions the source's rows fall in now (inserts until the confirm may add some). */
  partitions: { id: string; sourceRows: number }[];
  statements: DescribedStatement[];
}
