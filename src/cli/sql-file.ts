import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { CliError } from './cli-error';

/**
 * A view job's `sqlFile:` read into `sql:` (the file's text, unchanged), the path taken relative to the job file:
 * the workflow's input, and so its history, holds the SQL itself, never a path only this machine can read.
 * Anything else is returned as it is.
 */
export function inlineSqlFile(jobFile: string, raw: unknown): unknown {
  if (typeof raw !== 'object' || raw === null || !('sqlFile' in raw)) return raw;
  const { sqlFile, ...rest } = raw as Record<string, unknown>;
  if (typeof sqlFile !== 'string') throw new CliError(`job file ${jobFile}: sqlFile must be a path`);
  if ('sql' in rest) throw new CliError(`job file ${jobFile}: give sqlFile or sql, not both`);
  const path = resolve(dirname(jobFile), sqlFile);
  try {
    return { ...rest, sql: readFileSync(path, 'utf8') };
  } catch (err) {
    throw new CliError(`job file ${jobFile}: cannot read sqlFile ${path}: ${(err as Error).message}`, { cause: err });
  }
}
