import { readFileSync } from 'node:fs';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { runWorkerFromEnv } from '../src/worker/run-worker-from-env';
import type { WorkerCommand, WorkerReply } from './messages';

const reply = (message: WorkerReply): Promise<void> =>
  new Promise((resolve) => process.send?.(message, () => resolve()));

/**
 * Child entry: the backfill worker as `src/bin/worker.ts` runs it (ClickHouse and Temporal from the
 * environment), except that the workflow bundle comes pre-built from `BENCH_WORKFLOW_BUNDLE`, so bundling's
 * memory does not count toward the worker's peak RSS. Reports `ready` once serving, its RSS and CPU time when asked (`rss`)
 * and its peak RSS when told to stop.
 */
async function main(): Promise<void> {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  await runWorkerFromEnv({
    log: { info: () => undefined, warn: (message, meta) => console.warn(message, meta ?? '') },
    workflowBundle: { code: readFileSync(process.env.BENCH_WORKFLOW_BUNDLE ?? '', 'utf8') },
    onReady: async ({ clickhouse, stop }) => {
      // A long-running worker has its engine started long before a backfill arrives.
      await clickhouse.rows({ query: 'SELECT 1', params: {} });
      process.on('message', (command: WorkerCommand) => {
        if (command.kind === 'stop') stop();
        else {
          const { user, system } = process.cpuUsage();
          void reply({ kind: 'rss', rssBytes: process.memoryUsage().rss, cpuMs: (user + system) / 1000 });
        }
      });
      await reply({ kind: 'ready', rssBytes: process.memoryUsage().rss });
    },
  });
  await reply({ kind: 'stopped', peakRssBytes: process.resourceUsage().maxRSS * 1024 });
}

main().then(
  () => process.exit(0),
  async (err) => {
    await reply({ kind: 'failed', error: err instanceof Error ? err.message : String(err) });
    process.exit(1);
  },
);
