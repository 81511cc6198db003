import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';

const root = path.resolve(__dirname, '..', '..');

/** `npm run build`: the sources compiled to dist/ and the workflow code bundled into dist/workflow-bundle.js. */
export function buildDist(): void {
  const build = spawnSync('npm', ['run', 'build'], { cwd: root, encoding: 'utf8' });
  if (build.status !== 0) throw new Error(`npm run build failed:\n${build.stdout}\n${build.stderr}`);
}

/** The `worker ready` log line of src/bin/worker.ts. */
export interface WorkerReady {
  startupSeconds: number;
  workflowCode: 'prebuilt bundle' | 'bundled at start';
}

export interface CompiledWorker {
  child: ChildProcess;
  ready: WorkerReady;
  /** Milliseconds from the spawn to the `worker ready` line, as the parent saw them (Node's own start included). */
  msToReady: number;
}

/** Spawns `node dist/bin/worker.js` with `env` added to this process's and resolves once it logs `worker ready`. */
export async function startCompiledWorker(env: NodeJS.ProcessEnv): Promise<CompiledWorker> {
  const spawnedAt = performance.now();
  const child = spawn(process.execPath, [path.join(root, 'dist', 'bin', 'worker.js')], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, ...env },
  });
  for await (const line of createInterface({ input: child.stdout! })) {
    const parsed = JSON.parse(line) as WorkerReady & { message: string };
    if (parsed.message === 'worker ready') {
      return { child, ready: parsed, msToReady: performance.now() - spawnedAt };
    }
  }
  throw new Error('the compiled worker exited before it was ready');
}
