import type { ImportBatch, ImportDuplicates, ImportPlan } from './import-input';
import type { ImportJob } from './job-spec';
import { isoOfEpochSeconds } from './epoch-seconds';
import { shadowTableFor } from './writer-tables';
import type { TableRef } from './table-ref';
import type { ImportPartitionTask } from './partition-task';
import { shardedLocalTarget } from './shard-partitions';

/**
 * The duplicates of one batch for one writer: `<table>_v2_<partition>_<writer tag>` of each view target and each
 * view, each in its own database (the main table's is the task's shadow, named the same way); a view down a chain
 * reads the duplicate of the target it reads.
 */
export function importDuplicates(plan: ImportPlan, partitionId: string, tag: string): ImportDuplicates {
  const copyOf = (t: TableRef) => shadowTableFor(t, partitionId, tag);
  return {
    targets: plan.targets.map((t) => ({ ...t, copy: copyOf(t.table) })),
    views: plan.views.map((v) => ({
      view: v.view,
      copy: copyOf(v.view),
      into: copyOf(v.target),
      select: v.select,
      ...(v.reads ? { reads: v.reads, from: copyOf(v.reads) } : {}),
    })),
  };
}

/** The task of one batch for one writer (its tag): what the partition workflow runs, and what a dry run renders. */
export function importBatchTask(
  job: ImportJob,
  plan: ImportPlan,
  batch: ImportBatch,
  tag: string,
): ImportPartitionTask {
  const { files, bytes, fileCount, filesHash, ...partition } = batch;
  const staged = plan.files?.staged;
  return {
    job,
    source: plan.source,
    target: plan.target,
    shadow: shadowTableFor(plan.target, batch.id, tag),
    partition: files === undefined && bytes === undefined ? batch : partition,
    build: {
      kind: 'import-batch',
      checkpoint: plan.checkpoint,
      fromMicros: batch.fromMicros,
      toMicros: batch.toMicros,
      partitionKey: plan.partitionKey,
      columns: plan.columns,
      ...(plan.files && files ? { files: { reader: plan.files.reader, list: files } } : {}),
      ...(plan.files && staged && filesHash !== undefined
        ? {
            files: {
              reader: plan.files.reader,
              staged: { ...staged, batch: batch.id, count: fileCount ?? 0, hash: filesHash },
            },
          }
        : {}),
    },
    swap: 'move-all',
    duplicates: importDuplicates(plan, batch.id, tag),
    server: plan.server,
  };
}

/**
 * One `(batch, shard)`'s task of a sharded import (the plan's batch `<partition>@<shard>`, see
 * src/shared/shard-partitions.ts): the batch's task on the local target behind the plan's `Distributed` target, under
 * the partition's own id, its duplicates named `<table>_v2_<partition>_s<shard>_<writer tag>` (every shard holds
 * every duplicate, DDL reaching the whole cluster, so a shard's cleanup must not drop another's), the profile
 * narrowed to that shard (its statements go through that shard's client, its fill takes the rows that shard owns).
 * The view targets are already the local ones (the plan reads the views of the local target). Undefined for a batch
 * of any other plan.
 */
export function shardedImportTask(
  job: ImportJob,
  plan: ImportPlan,
  batch: ImportBatch,
  tag: string,
): ImportPartitionTask | undefined {
  const shard = plan.server?.sharding?.shards.find((s) => s.num === batch.shard);
  const local = shardedLocalTarget(plan);
  if (!plan.server || !shard || !local) return undefined;
  const id = batch.id.slice(0, batch.id.lastIndexOf('@'));
  const names = `${id}_s${shard.num}`;
  const task = importBatchTask(job, { ...plan, target: local }, { ...batch, id }, tag);
  const { shard: _num, ...partition } = task.partition;
  return {
    ...task,
    shadow: shadowTableFor(local, names, tag),
    partition,
    duplicates: importDuplicates(plan, names, tag),
    server: { ...plan.server, shard },
  };
}

/** A checkpoint in epoch microseconds as UTC text: `2024-12-17T09:00:00Z`, with `.ffffff` when not whole. */
export function formatCheckpoint(micros: number): string {
  const seconds = Math.floor(micros / 1e6);
  const fraction = micros - seconds * 1e6;
  const whole = isoOfEpochSeconds(seconds);
  return fraction === 0 ? whole : `${whole.slice(0, -1)}.${String(fraction).padStart(6, '0')}Z`;
}
