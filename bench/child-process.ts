import { fork, type ChildProcess } from 'node:child_process';
import path from 'node:path';

/** A forked TypeScript child that talks to the bench over IPC. */
export interface BenchChild<Reply, Command> {
  pid: number;
  /** The next message the child sends; rejects if it exits first. */
  next(): Promise<Reply>;
  send(command: Command): void;
  /** Resolves with the exit code once the child has exited. */
  exited: Promise<number | null>;
}

/**
 * Forks `bench/<script>` under tsx with its own environment. chDB binds one data directory per process, so every
 * ClickHouse access runs in a child like this one, one at a time, and each child's peak memory is its own.
 */
export function forkChild<Reply, Command = never>(
  script: string,
  env: Record<string, string>,
  verbose: boolean,
): BenchChild<Reply, Command> {
  const child: ChildProcess = fork(path.join(__dirname, script), [], {
    execArgv: ['--import', 'tsx'],
    env: { ...process.env, ...env },
    stdio: ['ignore', verbose ? 'inherit' : 'ignore', 'inherit', 'ipc'],
  });
  const inbox: Reply[] = [];
  const waiting: { resolve: (r: Reply) => void; reject: (e: Error) => void }[] = [];
  let exitError: Error | undefined;

  child.on('message', (message) => {
    const waiter = waiting.shift();
    if (waiter) waiter.resolve(message as Reply);
    else inbox.push(message as Reply);
  });
  const exited = new Promise<number | null>((resolve) => {
    child.once('exit', (code, signal) => {
      exitError = new Error(`bench child ${script} exited (${signal ?? `code ${code}`}) without replying`);
      for (const waiter of waiting.splice(0)) waiter.reject(exitError);
      resolve(code);
    });
  });
  const killOnExit = (): void => void child.kill('SIGKILL');
  process.once('exit', killOnExit);
  void exited.then(() => process.off('exit', killOnExit));

  return {
    pid: child.pid ?? -1,
    next: () => {
      const queued = inbox.shift();
      if (queued !== undefined) return Promise.resolve(queued);
      if (exitError) return Promise.reject(exitError);
      return new Promise((resolve, reject) => waiting.push({ resolve, reject }));
    },
    send: (command) => void child.send(command as object),
    exited,
  };
}
