import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { runCli } from '../../src/cli';

export interface CliRun {
  code: number;
  out: string;
  err: string;
}

/**
 * Runs `ch-backfill <args>` in this process against `env` (e.g. `TEMPORAL_ADDRESS`), capturing what it prints;
 * the environment and console are restored afterwards.
 */
export async function runCliCaptured(env: Record<string, string>, ...args: string[]): Promise<CliRun> {
  const out: string[] = [];
  const err: string[] = [];
  const log = jest.spyOn(console, 'log').mockImplementation((m: string) => void out.push(m));
  const error = jest.spyOn(console, 'error').mockImplementation((m: string) => void err.push(m));
  const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  Object.assign(process.env, env);
  try {
    const code = await runCli(['node', 'ch-backfill', ...args]);
    return { code, out: out.join('\n'), err: err.join('\n') };
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    log.mockRestore();
    error.mockRestore();
  }
}

/** Runs `ch-backfill <args>` like {@link runCliCaptured}, against a test server and the task queue its worker serves. */
export function runCliOn(h: { env: TestWorkflowEnvironment; taskQueue: string }, ...args: string[]): Promise<CliRun> {
  return runCliCaptured({ TEMPORAL_ADDRESS: h.env.address, TEMPORAL_TASK_QUEUE: h.taskQueue }, ...args);
}
