import type { Command } from 'commander';
import { BACKFILL_SEARCH_ATTRIBUTE_ARGS } from '../../temporal/backfill-search-attributes';
import { temporalConfigFromEnv } from '../../temporal/connection';
import { DEFAULT_TEMPORAL_PORT, DEFAULT_UI_PORT, startDevServer } from '../../temporal/dev-server';
import { CliError } from '../cli-error';

interface DevServerOptions {
  port: string;
  uiPort: string;
  dbFile: string;
}

function port(value: string, option: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw new CliError(`${option} must be a port number, not ${value}`);
  return n;
}

/** Resolves on the first SIGINT or SIGTERM, which then no longer end the process by default. */
function stopSignal(): { received: Promise<void>; dispose: () => void } {
  let resolve: () => void = () => undefined;
  const received = new Promise<void>((r) => (resolve = r));
  const onSignal = () => resolve();
  process.once('SIGINT', onSignal).once('SIGTERM', onSignal);
  return { received, dispose: () => void process.off('SIGINT', onSignal).off('SIGTERM', onSignal) };
}

/**
 * `dev-server`: the pinned Temporal dev server from `.tools` (never a `temporal` that happens to be on PATH first),
 * persisted to `.data/temporal.db`, with the backfill search attributes registered and `TEMPORAL_NAMESPACE` created;
 * runs until Ctrl-C.
 */
export function registerDevServerCommand(program: Command): void {
  program
    .command('dev-server')
    .description('run a local Temporal dev server with the backfill search attributes, until Ctrl-C')
    .option('--port <port>', 'gRPC port', String(DEFAULT_TEMPORAL_PORT))
    .option('--ui-port <port>', 'Web UI port', String(DEFAULT_UI_PORT))
    .option('--db-file <file>', 'SQLite file that keeps workflows across restarts', '.data/temporal.db')
    .action(async (options: DevServerOptions) => {
      const { namespace } = temporalConfigFromEnv();
      const signal = stopSignal();
      try {
        const server = await startDevServer({
          dbFile: options.dbFile,
          port: port(options.port, '--port'),
          uiPort: port(options.uiPort, '--ui-port'),
          namespace,
          log: (line) => console.error(line),
        });
        const attributes = BACKFILL_SEARCH_ATTRIBUTE_ARGS.filter((arg) => arg !== '--search-attribute');
        console.log(
          [
            `Temporal dev server running; Ctrl-C stops it.`,
            `  gRPC     ${server.address}  (export TEMPORAL_ADDRESS=${server.address})`,
            `  Web UI   ${server.uiUrl}`,
            `  namespace ${namespace}; search attributes ${attributes.join(', ')}`,
            `  database ${options.dbFile}`,
          ].join('\n'),
        );
        const exit = await Promise.race([signal.received.then(() => undefined), server.exited]);
        await server.stop();
        if (exit && !exit.clean) throw new CliError(`the Temporal dev server ${exit.reason}`);
        console.log('Temporal dev server stopped.');
      } finally {
        signal.dispose();
      }
    });
}
