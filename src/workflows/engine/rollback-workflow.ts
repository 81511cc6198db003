import { ApplicationFailure, isCancellation, proxyLocalActivities, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../../activities';
import { innermostMessage } from '../../shared/failure-message';
import { FailureType } from '../../shared/failure-types';
import { partitionFromId } from '../../shared/partitions';
import { type RollbackInputRaw, type RollbackSummary } from '../../shared/rollback-input';
import { tableRefOf } from '../../shared/table-ref';
import { shadowTableFor, writerTag } from '../../shared/writer-tables';
import { startPartitionWriter } from './partition-writer';
import type { PartitionTask } from '../../shared/partition-task';

const { resolveRollbackInput } = proxyLocalActivities<Activities>({
  startToCloseTimeout: '1m',
  retry: { maximumAttempts: 3 },
});

/**
 * Restores partitions of a target to what they held before a backfill (or a view restate) swapped them, from the
 * backup table that backfill kept (`<target>_backup_<writer>`). Each partition goes through the partition workflow under its lock,
 * like any other write: the backup's copy is attached to a fresh shadow (hard links), checked against the backup,
 * and swapped in with `REPLACE PARTITION`, or the partition is dropped when it did not exist before the backfill.
 * Partitions run one at a time; a busy partition is waited for.
 *
 * Durability: the backup is only read, so restoring is idempotent: a rollback repeated, or resumed after a crash
 * at any step, leaves the same table. A view restate of a chain (`chain`) restores every level of a partition in
 * that partition's workflow, each from its own backup. A backup dropped after its retention fails each partition non-retryably
 * (`BackupMissingError`), the live table unchanged.
 */
export async function rollbackWorkflow(raw: RollbackInputRaw): Promise<RollbackSummary> {
  const input = await resolveRollbackInput(raw);
  const { job } = input;
  const { workflowId, firstExecutionRunId } = workflowInfo();
  const tag = writerTag(workflowId, firstExecutionRunId);
  const target = tableRefOf(input.target);
  const backup = tableRefOf(input.backup);
  const restored: RollbackSummary['partitions'] = [];
  const failed: string[] = [];
  for (const { id, rows } of input.partitions) {
    // A restate's partitions are months or days as their ids say (its job names no granularity).
    const granularity = job.kind === 'aggregate' ? job.partitionBy : id.length === 6 ? 'month' : 'day';
    const common = {
      source: target,
      target,
      shadow: shadowTableFor(target, id, tag),
      partition: { ...partitionFromId(id, granularity), sourceRows: 0, targetRows: 0, maxRowsPerKey: 0, salt: 1 },
      build: { kind: 'restore' as const, from: backup, rows },
      server: input.server,
    };
    // A restate's chain is restored with its target, each level from its own backup, deepest first.
    const chain = input.chain?.map((level) => {
      const levelTarget = tableRefOf(level.target);
      const from = tableRefOf(level.backup);
      return {
        target: levelTarget,
        shadow: shadowTableFor(levelTarget, id, tag),
        build: { kind: 'restore' as const, from },
      };
    });
    const task: PartitionTask =
      job.kind === 'aggregate' ? { job, ...common } : { job, ...common, swap: 'replace', ...(chain ? { chain } : {}) };
    try {
      const result = await (await startPartitionWriter(task, job.safety)).result();
      restored.push({ partition: id, rows: result.rowsWritten, emptied: rows === 0 });
    } catch (err) {
      if (isCancellation(err)) throw err;
      failed.push(`${id} (${innermostMessage(err)})`);
    }
  }
  if (failed.length > 0) {
    throw ApplicationFailure.create({
      message: `rollback of ${input.backfill}: ${failed.length} of ${input.partitions.length} partitions failed: ${failed.join('; ')}`,
      type: FailureType.PartitionsFailed,
      nonRetryable: true,
    });
  }
  return { backfill: input.backfill, target: input.target, partitions: restored };
}
