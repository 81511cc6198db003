import { ApplicationFailure, log } from '@temporalio/workflow';
import type { PartitionPlan, ValidationCheck } from '../../shared/backfill-results';
import type { DailyInput } from '../../shared/daily-input';
import { FailureType } from '../../shared/failure-types';
import { innermostMessage } from '../../shared/failure-message';
import type { BackfillProgress, PartitionProgress } from '../../shared/progress';
import type { ServerProfile } from '../../shared/server-profile';
import { shardedAggregateTask } from '../../shared/shard-partitions';
import type { TableRef } from '../../shared/table-ref';
import { startPartitionWriter } from '../engine/partition-writer';

/** What one day on a sharded cluster hands to its shards. */
export interface DayOnShards {
  job: DailyInput['job'];
  day: string;
  input: Pick<DailyInput, 'allowShrink'>;
  source: TableRef;
  target: TableRef;
  server?: ServerProfile;
  /** The day's partition per shard (`<partition>@<shard>`), as `planDay` lists it. */
  shards: PartitionPlan[];
  /** The plan's `sourceHasParts`, carried by each shard's task as by a backfill's. */
  sourceHasParts?: boolean;
  /** The run's writer tag (shadows `<local target>_v2_<partition>_s<shard>_<tag>`). */
  tag: string;
  progress: BackfillProgress;
}

/**
 * Loads one day on a sharded cluster: the day's partition on each shard in turn, each as its own partition
 * workflow on that shard's local tables (`shardedAggregateTask`, as a backfill's `(partition, shard)`): its own
 * shadow, lock `partition:<db>.<local target>/<partition>@<shard>`, the live partition copied, the day deleted and
 * re-aggregated from the shard's local source, checked, and swapped on the shard, the ledger row
 * `<partition>@<shard>`. A shard that fails does not stop the others; the run then fails naming every failed
 * `<partition>@<shard>` (`PartitionsFailed`), and re-running the day replaces it again on every shard.
 *
 * Durability: each shard's writer is a child workflow, awaited before the next starts; its steps are idempotent.
 */
export async function runDayPerShard(
  run: DayOnShards,
  onRunning: (entry: PartitionProgress) => void,
): Promise<{ sourceRows: number; rowsWritten: number; checks: ValidationCheck[] }> {
  const { job, day, progress } = run;
  const maxShrink = run.input.allowShrink ? undefined : job.safety.maxShrink;
  const failed: string[] = [];
  const checks: ValidationCheck[] = [];
  let rowsRead = 0;
  let rowsWritten = 0;
  for (const [i, planned] of run.shards.entries()) {
    const entry = progress.partitions[i];
    onRunning(entry);
    const task = shardedAggregateTask(
      { job, build: { kind: 'day', day }, sourceHasParts: run.sourceHasParts, backup: undefined, maxShrink },
      run,
      planned,
      run.tag,
    );
    if (!task) throw new Error(`no shard task for ${planned.id}: the plan's profile has no such shard`);
    try {
      const writer = await startPartitionWriter(task, job.safety, (holder) => {
        if (entry.waitingFor !== holder) log.info('partition busy: waiting', { partition: planned.id, holder });
        Object.assign(entry, { state: 'waiting', waitingFor: holder, step: undefined });
      });
      Object.assign(entry, { state: 'running', waitingFor: undefined, step: 'insert', startedAt: Date.now() });
      const result = await writer.result();
      Object.assign(entry, { state: 'swapped', step: undefined, result, finishedAt: Date.now() });
      progress.done++;
      rowsRead += result.rowsRead;
      rowsWritten += result.rowsWritten;
      checks.push(...result.checks.map((c) => ({ ...c, name: `${planned.id}: ${c.name}` })));
    } catch (err) {
      Object.assign(entry, { state: 'failed', step: undefined, error: innermostMessage(err), finishedAt: Date.now() });
      progress.failed++;
      failed.push(`${planned.id} (${innermostMessage(err)})`);
    }
  }
  Object.assign(progress, { rowsRead, rowsWritten });
  if (failed.length > 0) {
    progress.phase = 'failed';
    throw ApplicationFailure.create({
      message: `day ${day}: ${failed.length} of ${run.shards.length} shards failed: ${failed.join('; ')}`,
      type: FailureType.PartitionsFailed,
      nonRetryable: true,
    });
  }
  progress.phase = 'completed';
  return { sourceRows: rowsRead, rowsWritten, checks };
}
