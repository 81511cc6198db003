/** An error the CLI prints as one line before exiting non-zero (no stack: the message says it all). */
export class CliError extends Error {
  override readonly name = 'CliError';
}
