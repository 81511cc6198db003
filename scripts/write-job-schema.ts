/**
 * `npm run schema`: writes the JSON Schema of job files for this package version to schema/, generated from the zod
 * job schema (src/cli/job-file-json-schema.ts). test/unit/job-file-json-schema.test.ts fails when it is stale.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { jobFileJsonSchemaText, jobSchemaFile } from '../src/cli/job-file-json-schema';
import { version } from '../package.json';

const file = join(__dirname, '..', jobSchemaFile(version));
mkdirSync(dirname(file), { recursive: true });
writeFileSync(file, jobFileJsonSchemaText(version));
console.log(`wrote ${file}`);
