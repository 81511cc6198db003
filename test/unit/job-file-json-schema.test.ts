import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import {
  jobFileJsonSchema,
  jobFileJsonSchemaText,
  jobSchemaComment,
  jobSchemaFile,
} from '../../src/cli/job-file-json-schema';
import { version } from '../../package.json';

const root = path.resolve(__dirname, '../..');
const examples = readdirSync(path.join(root, 'examples')).filter((f) => f.endsWith('.yaml'));

describe('the JSON Schema of job files', () => {
  it('is committed as generated from the zod job schema now (run `npm run schema` after changing it)', () => {
    const committed = readFileSync(path.join(root, jobSchemaFile(version)), 'utf8');
    expect(committed).toBe(jobFileJsonSchemaText(version));
  });

  it('is named for the package version', () => {
    expect(jobSchemaFile(version)).toBe(`schema/job-spec-${version}.schema.json`);
  });

  it.each(examples)('is referenced by examples/%s on its first line', (file) => {
    const firstLine = readFileSync(path.join(root, 'examples', file), 'utf8').split('\n')[0];
    expect(firstLine).toBe(jobSchemaComment(version));
  });

  it.each(examples)('knows every top-level field of examples/%s, for its kind', (file) => {
    const job = parse(readFileSync(path.join(root, 'examples', file), 'utf8')) as Record<string, unknown>;
    const { oneOf } = jobFileJsonSchema(version) as {
      oneOf: { properties: Record<string, unknown> & { kind: { const: string } }; required: string[] }[];
    };
    const branch = oneOf.find((b) => b.properties.kind.const === job.kind);
    expect(branch).toBeDefined();
    expect(Object.keys(job).filter((k) => !(k in branch!.properties))).toEqual([]);
    expect(branch!.required.filter((k) => !(k in job))).toEqual([]);
  });

  it('leaves fields with defaults optional and lets a view job give sqlFile', () => {
    const { oneOf } = jobFileJsonSchema(version) as {
      oneOf: { properties: Record<string, unknown> & { kind: { const: string } }; required: string[] }[];
    };
    const aggregate = oneOf.find((b) => b.properties.kind.const === 'aggregate')!;
    expect(aggregate.required).not.toContain('partitionBy');
    expect(aggregate.required).not.toContain('parallelism');
    expect(oneOf.find((b) => b.properties.kind.const === 'view')!.properties.sqlFile).toMatchObject({ type: 'string' });
  });
});
