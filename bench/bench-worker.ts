import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { Client } from '@temporalio/client';
import { forkChild } from './child-process';
import type { WorkerCommand, WorkerReply } from './messages';

/** A backfill worker in a process of its own (bench/worker-process.ts), serving a task queue of its own. */
export interface BenchWorker {
  taskQueue: string;
  /** From the fork to the worker polling (its engine warmed up). */
  readyMs: number;
  readyRssBytes: number;
  /** The worker's resident set now, and the CPU time it has used since it started. */
  usage(): Promise<{ rssBytes: number; cpuMs: number }>;
  /** Stops it and returns its peak RSS. */
  stop(): Promise<number>;
}

/**
 * Starts a worker process on `env` (data directory, Temporal address, prebuilt workflow bundle), so that its memory
 * belongs to one run alone, and has it serve one read-only workflow (`ledgerHistoryWorkflow`) through `client`
 * before it is measured: a long-running worker has served workflows and activities before a backfill arrives,
 * as it has its engine started (the first workflow task on a fresh worker builds its sandbox and warms its code
 * up, about 0.15 s; the worker's start is measured on its own, target 5).
 */
export async function startBenchWorker(
  env: Record<string, string>,
  verbose: boolean,
  client: Client,
): Promise<BenchWorker> {
  const taskQueue = `bench-${randomUUID()}`;
  const started = performance.now();
  const worker = forkChild<WorkerReply, WorkerCommand>(
    'worker-process.ts',
    { ...env, TEMPORAL_TASK_QUEUE: taskQueue },
    verbose,
  );
  const ready = await worker.next();
  if (ready.kind !== 'ready') throw new Error(`worker did not start: ${JSON.stringify(ready)}`);
  const readyMs = performance.now() - started;
  await client.workflow.execute('ledgerHistoryWorkflow', {
    taskQueue,
    workflowId: `bench-warm-up-${randomUUID()}`,
    args: [{ target: 'system.one' }],
  });
  // Replies come in order: one request at a time.
  let asking = Promise.resolve({ rssBytes: 0, cpuMs: 0 });
  return {
    taskQueue,
    readyMs,
    readyRssBytes: ready.rssBytes,
    usage: () => {
      asking = asking.then(async () => {
        worker.send({ kind: 'rss' });
        const answer = await worker.next();
        if (answer.kind !== 'rss') throw new Error(`worker answered ${JSON.stringify(answer)} to rss`);
        return { rssBytes: answer.rssBytes, cpuMs: answer.cpuMs };
      });
      return asking;
    },
    stop: async () => {
      await asking.catch(() => undefined);
      worker.send({ kind: 'stop' });
      const stopped = await worker.next();
      await worker.exited;
      if (stopped.kind !== 'stopped') throw new Error(`worker did not stop cleanly: ${JSON.stringify(stopped)}`);
      return stopped.peakRssBytes;
    },
  };
}
