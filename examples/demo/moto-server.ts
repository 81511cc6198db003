import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { freePort } from './free-port';

/*
 * PyPI's moto S3 server on a loopback port, for `npm start -- --example pypi-s3` and the tests of s3 sources.
 */

/**
 * The named collection holding moto's credentials (moto takes any). Jest gives each test file a copy of
 * `process.env` the embedded engine never sees, so the tests and the demo use a named collection rather than
 * environment credentials (which `AWS_ACCESS_KEY_ID=… npm run worker` uses); a job names it, never a credential.
 */
export const MOTO_COLLECTION = 'moto_s3';

/** Creates {@link MOTO_COLLECTION} on the engine (once per data directory). */
export const createMotoCollection = `CREATE NAMED COLLECTION IF NOT EXISTS ${MOTO_COLLECTION} AS access_key_id = 'moto', secret_access_key = 'moto'`;

/** A running S3-compatible server (PyPI's moto) on a loopback port, with a bucket; `stop` ends it. */
export interface MotoServer {
  endpoint: string;
  bucket: string;
  /** `http://127.0.0.1:<port>/<bucket>/<key>` */
  url(key: string): string;
  stop(): Promise<void>;
}

/** moto_server from scripts/install-moto.sh, else MOTO_SERVER_PATH, else the machine's python3 with moto. */
function motoCommand(): { command: string; args: string[] } {
  if (process.env.MOTO_SERVER_PATH) return { command: process.env.MOTO_SERVER_PATH, args: [] };
  const installed = path.resolve(__dirname, '..', '..', '.tools', 'moto', 'bin', 'moto_server');
  if (existsSync(installed)) return { command: installed, args: [] };
  if (spawnSync('python3', ['-c', 'import moto.server'], { stdio: 'ignore' }).status === 0) {
    return { command: 'python3', args: ['-m', 'moto.server'] };
  }
  throw new Error('moto is not installed: run `npm run setup:moto` (PyPI moto[server] into .tools/moto)');
}

/**
 * Starts moto's S3 server on a free loopback port, waits until it answers, and creates `bucket`.
 */
export async function startMotoServer(bucket = 'history'): Promise<MotoServer> {
  const port = await freePort();
  const { command, args } = motoCommand();
  const child: ChildProcess = spawn(command, [...args, '-H', '127.0.0.1', '-p', String(port)], { stdio: 'ignore' });
  let spawnError: Error | undefined;
  child.once('error', (err) => (spawnError = err));
  const endpoint = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      const res = await fetch(`${endpoint}/${bucket}`, { method: 'PUT' });
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline || child.exitCode !== null || spawnError) {
      child.kill('SIGKILL');
      const why = spawnError ? `: ${spawnError.message} (run \`npm run setup:moto\`)` : '';
      throw new Error(`moto (${command}) did not start on ${endpoint}${why}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    endpoint,
    bucket,
    url: (key) => `${endpoint}/${bucket}/${key}`,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null || spawnError) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

/**
 * Runs `fn` with a moto server holding `bucket`, and stops the server when `fn` settles or the process receives
 * SIGINT/SIGTERM (then re-raised once no other handler is left, as `withTemporal` does).
 */
export async function withMotoServer<T>(bucket: string, fn: (s3: MotoServer) => Promise<T>): Promise<T> {
  const s3 = await startMotoServer(bucket);
  const onSignal = (signal: NodeJS.Signals): void => {
    void s3.stop().finally(() => {
      process.off('SIGINT', onSignal).off('SIGTERM', onSignal);
      if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
    });
  };
  process.on('SIGINT', onSignal).on('SIGTERM', onSignal);
  try {
    return await fn(s3);
  } finally {
    process.off('SIGINT', onSignal).off('SIGTERM', onSignal);
    await s3.stop();
  }
}
