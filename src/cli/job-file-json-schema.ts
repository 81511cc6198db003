import { z } from 'zod';
import { jobSpecSchema } from '../shared/job-spec';

/** Where the JSON Schema of a release's job files is kept, relative to the repository (one file per version). */
export function jobSchemaFile(version: string): string {
  return `schema/job-spec-${version}.schema.json`;
}

/** The first line of an example job file that points editors (yaml-language-server) at its JSON Schema. */
export function jobSchemaComment(version: string): string {
  return `# yaml-language-server: $schema=../${jobSchemaFile(version)}`;
}

/**
 * The JSON Schema of a job file, generated from the zod job schema as a person writes it (`io: 'input'`: fields
 * with defaults are optional), plus `sqlFile:`, which a view job file may give instead of `sql:` (read by the CLI,
 * src/cli/sql-file.ts). Refinements (plain names, expressions, dates) are not in JSON Schema: the CLI still checks
 * them, naming the value it refuses.
 */
export function jobFileJsonSchema(version: string): Record<string, unknown> {
  const generated = z.toJSONSchema(jobSpecSchema, { io: 'input', unrepresentable: 'throw' });
  for (const branch of generated.oneOf ?? []) {
    const kind = branch.properties?.kind;
    if (!branch.properties || typeof kind !== 'object' || kind.const !== 'view') continue;
    branch.properties.sqlFile = {
      type: 'string',
      minLength: 1,
      description: 'A file holding the CREATE MATERIALIZED VIEW … TO … AS SELECT …, relative to the job file.',
    };
  }
  return {
    title: `clickhouse-backfill job file, version ${version}`,
    ...generated,
  };
}

/** The schema file's text as `npm run schema` writes it: two-space JSON and a final newline. */
export function jobFileJsonSchemaText(version: string): string {
  return `${JSON.stringify(jobFileJsonSchema(version), null, 2)}\n`;
}
