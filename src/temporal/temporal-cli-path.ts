import { accessSync, constants, statSync } from 'node:fs';
import path from 'node:path';

/** Repository root (this file lives in `<repo>/src/temporal`). */
const REPO_ROOT = path.resolve(__dirname, '..', '..');

/** Where `scripts/install-temporal-cli.sh` (npm `postinstall`) puts the Temporal CLI. */
export const BUNDLED_TEMPORAL_CLI_PATH = path.join(REPO_ROOT, '.tools', 'temporal-cli', 'bin', 'temporal');

function isExecutableFile(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return statSync(file).isFile();
  } catch {
    return false;
  }
}

/**
 * Locates the Temporal CLI binary (which embeds the Temporal dev server).
 *
 * Resolution order:
 * 1. `TEMPORAL_CLI_PATH` (must point at an executable file if set),
 * 2. `<repo>/.tools/temporal-cli/bin/temporal`, installed by `npm ci` / `npm run setup:temporal`,
 * 3. `temporal` on `PATH`.
 *
 * @param env - Environment to read `TEMPORAL_CLI_PATH` and `PATH` from.
 * @returns Absolute path of the `temporal` executable.
 * @throws Error telling the user to run `npm run setup:temporal` when no CLI is found.
 */
export function findTemporalCli(env: NodeJS.ProcessEnv = process.env): string {
  const fromEnv = env.TEMPORAL_CLI_PATH;
  if (fromEnv) {
    if (!isExecutableFile(fromEnv)) {
      throw new Error(`TEMPORAL_CLI_PATH is set to '${fromEnv}', which is not an executable file.`);
    }
    return path.resolve(fromEnv);
  }
  if (isExecutableFile(BUNDLED_TEMPORAL_CLI_PATH)) {
    return BUNDLED_TEMPORAL_CLI_PATH;
  }
  const onPath = (env.PATH ?? '')
    .split(path.delimiter)
    .filter((dir) => dir !== '')
    .map((dir) => path.resolve(dir, 'temporal'))
    .find(isExecutableFile);
  if (onPath) {
    return onPath;
  }
  throw new Error(
    `Temporal CLI not found (looked at TEMPORAL_CLI_PATH, ${BUNDLED_TEMPORAL_CLI_PATH} and 'temporal' on PATH). ` +
      'Run `npm run setup:temporal` to install it, or set TEMPORAL_CLI_PATH to an existing Temporal CLI binary.',
  );
}
