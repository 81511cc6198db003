import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Client } from '@temporalio/client';
import type { PartitionStep } from '../src/shared/backfill-results';
import { tsToMs } from '@temporalio/common/lib/time';
import { parse } from 'yaml';
import { viewJobSchema } from '../src/shared/job-spec';
import type { ViewBackfillSummary } from '../src/shared/view-input';
import { startBenchWorker } from './bench-worker';
import { qualifiedName, type TableRef } from '../src/shared/table-ref';

/** The durable view backfill of examples/pypi-downloads.yaml against one bare INSERT … SELECT of its query. */
export interface ViewBackfillBench {
  rows: number;
  /** The workflow from its start to its result, the cutoff wait included. */
  wallMs: number;
  /** From the end of the cutoff wait (the durable timer fired) to the result: the fill, checks and move. */
  fillMs: number;
  bareInsertMs: number;
  /** Both targets hold the same downloads per project. */
  agrees: boolean;
  /** The partitions the fill ran, and each step's time per partition (the partitions' step timers, summed). */
  partitions: number;
  stepMsPerPartition: Partial<Record<PartitionStep, number>>;
  /** The fill's time outside its INSERTs, per partition: the fixed steps and Temporal's part. */
  outsideInsertMsPerPartition: number;
}

/**
 * Runs examples/pypi-downloads.yaml (ranged fill, one unpartitioned target) as a view backfill through a worker of
 * its own on `pypi`, with the shortest cutoff margin the job allows, and returns its timings. `bareInsert` then
 * times the bare INSERT … SELECT on the same rows and compares the targets.
 */
export async function runViewBackfillBench(
  client: Client,
  workerEnv: Record<string, string>,
  pypi: TableRef,
  rows: number,
  bareInsert: (durableTarget: TableRef) => Promise<{ insertMs: number; agrees: boolean }>,
  log: (message: string) => void,
  verbose: boolean,
): Promise<ViewBackfillBench> {
  const example = parse(readFileSync(path.resolve(__dirname, '..', 'examples', 'pypi-downloads.yaml'), 'utf8'));
  const target: TableRef = { database: pypi.database, name: 'pypi_downloads' };
  const job = viewJobSchema.parse({
    ...example,
    source: { ...example.source, table: qualifiedName(pypi) },
    target: { ...example.target, table: qualifiedName(target) },
    cutoffMarginSeconds: 3,
    latenessSeconds: 0,
    // As the aggregate backfill is benched: the count() total against the source, no distinct groups.
    validation: { mode: 'fast' },
  });
  const worker = await startBenchWorker(workerEnv, verbose, client);
  log(`view backfill of ${qualifiedName(pypi)} into ${target.name}`);
  const started = performance.now();
  const handle = await client.workflow.start('viewBackfillWorkflow', {
    taskQueue: worker.taskQueue,
    workflowId: `bench-view-${randomUUID()}`,
    args: [{ job }],
  });
  const summary = (await handle.result()) as ViewBackfillSummary;
  const wallMs = performance.now() - started;
  await worker.stop();
  const events = (await handle.fetchHistory()).events ?? [];
  const fired = events.find((e) => e.timerFiredEventAttributes);
  const last = events[events.length - 1];
  const fillMs = fired ? tsToMs(last.eventTime) - tsToMs(fired.eventTime) : wallMs;
  log(`bare INSERT … SELECT of the view's query on the same rows`);
  const bare = await bareInsert(target);
  const partitions = summary.partitions.length;
  const stepMsPerPartition = Object.fromEntries(
    Object.entries(summary.totals.stepMs).map(([step, ms]) => [step, (ms ?? 0) / Math.max(partitions, 1)]),
  );
  const outsideInsertMsPerPartition = (fillMs - (summary.totals.stepMs.insert ?? 0)) / Math.max(partitions, 1);
  return {
    rows,
    wallMs,
    fillMs,
    bareInsertMs: bare.insertMs,
    agrees: bare.agrees,
    partitions,
    stepMsPerPartition,
    outsideInsertMsPerPartition,
  };
}
