import { z } from 'zod';
import { aggregateJobSpecSchema, tableName } from './job-spec';
import { isoDate } from './backfill-input';
import { refusedValue } from './refused-value';
import { forbiddenReferenceHost } from './reference-host';
import { credentialsInPath } from './path-credentials';
import { isPlainIdentifier } from './plain-identifier';

const CONTROL = /[\u0000-\u001f\u007f]/;
const path = z
  .string()
  .min(1)
  .max(4096)
  .refine((p) => !CONTROL.test(p), { message: 'must not contain control characters' });

/**
 * Refuses a `url()`/`s3()` reference to a link-local or metadata address (see {@link forbiddenReferenceHost}),
 * and one holding credentials (`user:password@`, a signed URL's query parameters: {@link credentialsInPath}),
 * which would otherwise be kept in the workflow's input and history.
 */
function refuseForbiddenHost(r: { path: string }, ctx: z.RefinementCtx): void {
  const refusal = forbiddenReferenceHost(r.path) ?? credentialsInPath(r.path);
  if (refusal) ctx.addIssue({ code: 'custom', path: ['path'], message: refusal });
}

/**
 * What the target is compared with: a ClickHouse table, or Parquet files (glob allowed) read with the `file()`
 * table function on the worker's host, or remote Parquet through `url()` (http/https) or `s3()`. The path
 * reaches ClickHouse only as a query parameter. Credentials never come with it: `s3()` uses the server's own
 * (on the embedded engine the worker's `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY`) or, with `namedCollection`,
 * a ClickHouse named collection's, as the import from files does (src/sql/engine/file-table-function.ts).
 */
export const referenceSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('table'), table: tableName }).strict(),
  z.object({ kind: z.literal('file'), path }).strict(),
  z
    .object({ kind: z.literal('url'), path })
    .strict()
    .refine((r) => /^https?:\/\//.test(r.path), { path: ['path'], message: 'must start with http:// or https://' })
    .superRefine(refuseForbiddenHost),
  z
    .object({
      kind: z.literal('s3'),
      path,
      namedCollection: z
        .string()
        .refine(isPlainIdentifier, { message: 'must be a plain name (letters, digits, underscores)' })
        .optional(),
    })
    .strict()
    .refine((r) => /^(s3|https?):\/\//.test(r.path), { path: ['path'], message: 'must start with s3:// or https://' })
    .superRefine(refuseForbiddenHost),
]);
export type Reference = z.infer<typeof referenceSchema>;

/**
 * Reads a `--reference` argument: `s3://…`, `http(s)://…`, a path with `/` or ending `.parquet`, or a table; with
 * `namedCollection` (`--reference-collection`), an `s3()` read through that named collection.
 */
export function referenceFromArgument(text: string, namedCollection?: string): Reference {
  if (namedCollection !== undefined) return { kind: 's3', path: text, namedCollection };
  if (text.startsWith('s3://')) return { kind: 's3', path: text };
  if (/^https?:\/\//.test(text)) return { kind: 'url', path: text };
  if (text.includes('/') || /\.parquet$/i.test(text)) return { kind: 'file', path: text };
  return { kind: 'table', table: text };
}

export function describeReference(r: Reference): string {
  if (r.kind === 'table') return `table ${r.table}`;
  if (r.kind === 's3' && r.namedCollection) return `s3(${r.namedCollection}, url = ${r.path}, Parquet)`;
  return `${r.kind}(${r.path}, Parquet)`;
}

/** Input of `validateWorkflow`: the job's target compared with a reference over an inclusive range of days. */
export const validateInputSchema = z
  .object({
    job: aggregateJobSpecSchema,
    reference: referenceSchema,
    from: isoDate,
    to: isoDate,
    /** Keys compared value by value, chosen by a hash so the same keys are drawn every time. */
    sampleKeys: z.number().int().nonnegative().max(1000).default(3),
    /** Compare every row (a full join of both sides); off by default. */
    fullDiff: z.boolean().default(false),
    /** How many differing keys to show per check. */
    examples: z.number().int().positive().max(100).default(5),
    /** Relative tolerance for floats; the job's `validation.relativeTolerance` when absent. */
    relativeTolerance: z.number().nonnegative().max(1).optional(),
  })
  .strict()
  .refine((i) => i.to >= i.from, {
    path: ['to'],
    error: (issue) => {
      const { from, to } = issue.input as { from: string; to: string };
      return `${refusedValue(to)} is before from (${refusedValue(from)})`;
    },
  });

export type ValidateInput = z.infer<typeof validateInputSchema>;
export type ValidateInputRaw = z.input<typeof validateInputSchema>;
