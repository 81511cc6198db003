import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import readline from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { BACKFILL_SEARCH_ATTRIBUTE_ARGS } from './backfill-search-attributes';
import { SQLITE_THROUGHPUT_ARGS, THROUGHPUT_DYNAMIC_CONFIG_ARGS } from './dev-server-throughput';
import { PRIORITY_DYNAMIC_CONFIG_ARGS } from './dev-server-task-priority';
import { findTemporalCli } from './temporal-cli-path';

/** gRPC port of the local Temporal dev server (also published by `temporal-dev.yml`). */
export const DEFAULT_TEMPORAL_PORT = 7233;
/** Web UI port of the local Temporal dev server (also published by `temporal-dev.yml`). */
export const DEFAULT_UI_PORT = 8233;

/** The dev server binds to this address only, so the address we hand out is unambiguous. */
const HOST = '127.0.0.1';
const STARTUP_TIMEOUT_MS = 30_000;
const STARTUP_POLL_MS = 200;
const STOP_GRACE_MS = 5_000;
const STDERR_TAIL_LINES = 30;

/** Options for {@link startDevServer}. */
export interface DevServerOptions {
  /** SQLite file persisting the server's state across runs; its parent directory is created. */
  dbFile: string;
  /** gRPC port; defaults to {@link DEFAULT_TEMPORAL_PORT}. */
  port?: number;
  /** Web UI port; defaults to {@link DEFAULT_UI_PORT}. */
  uiPort?: number;
  /** Namespace to create besides `default` (which always exists). */
  namespace?: string;
  /** Receives progress messages and the server's own output, one line per call. */
  log?: (msg: string) => void;
}

/** How a dev server process ended. */
export interface DevServerExit {
  /** E.g. `exited with code 1`, `was killed by SIGINT`. */
  reason: string;
  /** Exit code 0, or ended by SIGINT/SIGTERM (a stop, or Ctrl-C reaching it through the terminal). */
  clean: boolean;
}

/** A running dev server started by {@link startDevServer}. */
export interface DevServer {
  /** `host:port` of the gRPC frontend, ready for `Connection.connect({ address })`. */
  address: string;
  /** URL of the Web UI. */
  uiUrl: string;
  /** The server's process id (for its CPU time, as the bench reads it). */
  pid: number | undefined;
  /** Resolves once the server process has exited. */
  exited: Promise<DevServerExit>;
  /** Sends SIGTERM and waits for the process to exit (SIGKILL after 5 s). Safe to call repeatedly. */
  stop(): Promise<void>;
}

/** Resolves to false if something is already listening on `port` on the loopback interface. */
function isPortFree(port: number): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', (err: NodeJS.ErrnoException) => (err.code === 'EADDRINUSE' ? resolve(false) : reject(err)));
    probe.listen({ host: HOST, port, exclusive: true }, () => probe.close(() => resolve(true)));
  });
}

async function assertPortFree(port: number, hint: string): Promise<void> {
  if (!(await isPortFree(port))) {
    throw new Error(`Cannot start the Temporal dev server: port ${port} is already in use. ${hint}`);
  }
}

/** Resolves to true once a TCP connection to `port` succeeds. */
function acceptsConnections(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: HOST, port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => {
      socket.destroy();
      resolve(false);
    });
  });
}

/**
 * Starts `temporal server start-dev` (the Temporal CLI found by {@link findTemporalCli}) with a persistent
 * SQLite database, the settings for many short tasks (src/temporal/dev-server-throughput.ts) and those that make
 * it honour task priority and fairness (src/temporal/dev-server-task-priority.ts), and waits until
 * its gRPC port accepts connections.
 *
 * @param opts - Database file, ports and logger; see {@link DevServerOptions}.
 * @returns The server's gRPC address and a `stop()` function.
 * @throws Error naming the port if the gRPC or UI port is already in use, or including the tail of the
 *   server's stderr if it exits or does not accept connections within 30 s.
 */
export async function startDevServer(opts: DevServerOptions): Promise<DevServer> {
  const port = opts.port ?? DEFAULT_TEMPORAL_PORT;
  const uiPort = opts.uiPort ?? DEFAULT_UI_PORT;
  const log = opts.log ?? (() => undefined);
  const cli = findTemporalCli();

  await assertPortFree(
    port,
    `If a Temporal server is already running there, set TEMPORAL_ADDRESS=${HOST}:${port} to use it instead.`,
  );
  await assertPortFree(uiPort, 'Free it or choose another UI port.');

  const dbFile = path.resolve(opts.dbFile);
  mkdirSync(path.dirname(dbFile), { recursive: true });
  const args = ['server', 'start-dev', '--db-filename', dbFile, '--ip', HOST, '--port', String(port)];
  args.push('--ui-port', String(uiPort), '--log-level', 'warn');
  args.push(...BACKFILL_SEARCH_ATTRIBUTE_ARGS, ...THROUGHPUT_DYNAMIC_CONFIG_ARGS, ...PRIORITY_DYNAMIC_CONFIG_ARGS);
  args.push(...SQLITE_THROUGHPUT_ARGS);
  if (opts.namespace && opts.namespace !== 'default') {
    args.push('--namespace', opts.namespace);
  }
  log(`Starting Temporal dev server: ${cli} ${args.join(' ')}`);
  const child = spawn(cli, args, { stdio: ['ignore', 'pipe', 'pipe'] });

  let exitReason: string | undefined;
  // Once stopping, the server's shutdown chatter is not forwarded to `log`.
  let stopRequested = false;
  const stderrTail: string[] = [];
  readline.createInterface({ input: child.stdout }).on('line', (line) => {
    if (!stopRequested && line.trim() !== '') log(`[temporal] ${line}`);
  });
  const stderrLines = readline.createInterface({ input: child.stderr }).on('line', (line) => {
    stderrTail.push(line);
    stderrTail.splice(0, stderrTail.length - STDERR_TAIL_LINES);
    if (!stopRequested) log(`[temporal] ${line}`);
  });
  const stderrDone = new Promise<void>((resolve) => stderrLines.once('close', resolve));

  const exited = new Promise<DevServerExit>((resolve) => {
    child.on('error', (err) => {
      exitReason ??= `could not be run: ${err.message}`;
      resolve({ reason: exitReason, clean: false });
    });
    child.once('exit', (code, signal) => {
      exitReason ??= signal ? `was killed by ${signal}` : `exited with code ${code}`;
      if (!stopRequested) log(`Temporal dev server ${exitReason}`);
      resolve({ reason: exitReason, clean: code === 0 || signal === 'SIGINT' || signal === 'SIGTERM' });
    });
  });
  // Do not leave an orphaned server behind if this process exits without calling stop().
  const killOnExit = (): void => void child.kill('SIGTERM');
  process.once('exit', killOnExit);
  void exited.then(() => process.off('exit', killOnExit));

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      stopRequested = true;
      if (exitReason !== undefined) return;
      child.kill('SIGTERM');
      const killTimer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
      await exited;
      clearTimeout(killTimer);
    })();
    return stopping;
  };

  const failure = async (why: string): Promise<Error> => {
    await stop();
    await Promise.race([stderrDone, sleep(STARTUP_POLL_MS)]);
    const tail = stderrTail.length > 0 ? `\n--- last lines of its stderr ---\n${stderrTail.join('\n')}` : '';
    return new Error(`Temporal dev server (${cli}, gRPC port ${port}) ${why}${tail}`);
  };

  const deadline = Date.now() + STARTUP_TIMEOUT_MS;
  for (;;) {
    if (exitReason !== undefined) throw await failure(`${exitReason} during startup.`);
    if (await acceptsConnections(port)) break;
    if (Date.now() > deadline) {
      throw await failure(`did not accept connections within ${STARTUP_TIMEOUT_MS / 1000} s.`);
    }
    await sleep(STARTUP_POLL_MS);
  }

  const address = `${HOST}:${port}`;
  const uiUrl = `http://${HOST}:${uiPort}`;
  log(`Temporal dev server ready at ${address} (UI ${uiUrl}, database ${dbFile})`);
  return { address, uiUrl, pid: child.pid, exited, stop };
}
