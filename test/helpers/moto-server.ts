import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { freePort } from './free-port';

/**
 * The named collection holding moto's credentials (moto takes any). Jest gives each test file a copy of
 * `process.env` the embedded engine never sees, so the tests use a named collection rather than environment
 * credentials (which `AWS_ACCESS_KEY_ID=… npm run worker` uses).
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
  const endpoint = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      const res = await fetch(`${endpoint}/${bucket}`, { method: 'PUT' });
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline || child.exitCode !== null) {
      child.kill('SIGKILL');
      throw new Error(`moto did not start on ${endpoint}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    endpoint,
    bucket,
    url: (key) => `${endpoint}/${bucket}/${key}`,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}
