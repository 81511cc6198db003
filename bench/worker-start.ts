import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildDist, startCompiledWorker } from '../test/helpers/compiled-worker';

/** Time to ready of the compiled worker, per start: from the spawn to its `worker ready` line. */
export interface WorkerStartResult {
  /** Each start's milliseconds to ready, in order. */
  msToReady: number[];
  /** The median of those, the figure the target is checked against. */
  medianMs: number;
}

/**
 * Builds dist/ (`npm run build`) and starts the compiled worker `starts` times against the Temporal server at
 * `address`, each on a fresh embedded data directory, stopping it once it is ready.
 */
export async function measureWorkerStart(address: string, starts = 3): Promise<WorkerStartResult> {
  buildDist();
  const msToReady: number[] = [];
  for (let i = 0; i < starts; i++) {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'bench-worker-start-'));
    const worker = await startCompiledWorker({
      TEMPORAL_ADDRESS: address,
      TEMPORAL_TASK_QUEUE: `bench-worker-start-${i}`,
      CLICKHOUSE_DATA_DIR: dataDir,
    });
    msToReady.push(worker.msToReady);
    worker.child.kill('SIGTERM');
    await once(worker.child, 'exit');
    rmSync(dataDir, { recursive: true, force: true });
  }
  const sorted = [...msToReady].sort((a, b) => a - b);
  return { msToReady, medianMs: sorted[Math.floor(sorted.length / 2)] };
}
