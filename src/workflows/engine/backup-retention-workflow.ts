import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import { ParentClosePolicy, proxyActivities, sleep, startChild } from '@temporalio/workflow';
import type { Activities } from '../../activities';
import { durationMs } from '../../shared/durations';
import type { ServerProfile } from '../../shared/server-profile';
import { qualifiedName, type TableRef } from '../../shared/table-ref';

const { dropBackup } = proxyActivities<Activities>({
  startToCloseTimeout: '10m',
  retry: { initialInterval: '10s', backoffCoefficient: 2, maximumInterval: '10m' },
});

export interface BackupRetentionInput {
  backup: TableRef;
  /** How long to keep it, e.g. `7d`. */
  retention: string;
  /**
   * The plan's server profile, so the drop reaches every node of a cluster (the dialect's `dropTable`); absent:
   * one server (or a retention started before it was passed), a plain `DROP TABLE IF EXISTS`.
   */
  server?: ServerProfile;
}

/**
 * Keeps a writer's backup table (the live partitions a backfill replaced) for its retention, then drops it.
 *
 * Durability: the wait is a server-side timer, so it survives worker restarts and outages; the drop is
 * `DROP TABLE IF EXISTS` (on a cluster the dialect's, `ON CLUSTER` in an Atomic database, run through `runDdl`),
 * retried until it succeeds. A rollback after the drop fails, naming the dropped table.
 */
export async function backupRetentionWorkflow({ backup, retention, server }: BackupRetentionInput): Promise<void> {
  await sleep(durationMs(retention) ?? 0);
  await dropBackup(backup, server);
}

/**
 * Starts the retention of `backup` as a child that outlives its parent (`ABANDON`), under the id
 * `backup-retention:<database>.<table>`; a second call for the same table keeps the first timer.
 */
export async function keepBackupFor(backup: TableRef, retention: string, server?: ServerProfile): Promise<void> {
  try {
    await startChild(backupRetentionWorkflow, {
      workflowId: `backup-retention:${qualifiedName(backup)}`,
      args: [{ backup, retention, ...(server ? { server } : {}) }],
      parentClosePolicy: ParentClosePolicy.ABANDON,
      staticSummary: `drop ${qualifiedName(backup)} after ${retention}`,
    });
  } catch (err) {
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
  }
}
