import { z } from 'zod';
import { aggregateJobSpecSchema, tableName } from './job-spec';
import { parseIsoDate } from './partitions';

const isoDate = z.string().refine((s) => parseIsoDate(s) !== undefined, {
  message: 'must be a date written YYYY-MM-DD',
});

const CONTROL = /[\u0000-\u001f\u007f]/;
const path = z
  .string()
  .min(1)
  .max(4096)
  .refine((p) => !CONTROL.test(p), { message: 'must not contain control characters' });

/**
 * What the target is compared with: a ClickHouse table, or Parquet files (glob allowed) read with the `file()`
 * table function on the worker's host, or remote Parquet through `url()` (http/https) or `s3()`. The path
 * reaches ClickHouse only as a query parameter.
 */
export const referenceSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('table'), table: tableName }).strict(),
  z.object({ kind: z.literal('file'), path }).strict(),
  z
    .object({ kind: z.literal('url'), path })
    .strict()
    .refine((r) => /^https?:\/\//.test(r.path), { path: ['path'], message: 'must start with http:// or https://' }),
  z
    .object({ kind: z.literal('s3'), path })
    .strict()
    .refine((r) => /^(s3|https?):\/\//.test(r.path), { path: ['path'], message: 'must start with s3:// or https://' }),
]);
export type Reference = z.infer<typeof referenceSchema>;

/** Reads a `--reference` argument: `s3://…`, `http(s)://…`, a path with `/` or ending `.parquet`, or a table. */
export function referenceFromArgument(text: string): Reference {
  if (text.startsWith('s3://')) return { kind: 's3', path: text };
  if (/^https?:\/\//.test(text)) return { kind: 'url', path: text };
  if (text.includes('/') || /\.parquet$/i.test(text)) return { kind: 'file', path: text };
  return { kind: 'table', table: text };
}

export function describeReference(r: Reference): string {
  return r.kind === 'table' ? `table ${r.table}` : `${r.kind}(${r.path}, Parquet)`;
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
  .refine((i) => i.to >= i.from, { path: ['to'], message: 'must not be before from' });

export type ValidateInput = z.infer<typeof validateInputSchema>;
export type ValidateInputRaw = z.input<typeof validateInputSchema>;

export type Row = Record<string, string>;

export interface ValidationReport {
  target: string;
  reference: string;
  from: string;
  to: string;
  ok: boolean;
  relativeTolerance: number;
  days: { day: string; target: number; reference: number; ok: boolean }[];
  sums: { metric: string; target: string; reference: string; ok: boolean }[];
  onlyInTarget: { count: number; examples: Row[] };
  onlyInReference: { count: number; examples: Row[] };
  sampled: { key: Row; columns: { name: string; target: string; reference: string; ok: boolean }[] }[];
  fullDiff?: { differing: number; examples: { key: Row; columns: string[] }[] };
  /** The first keys (and dates) found to differ, over every check. */
  firstDifferingKeys: Row[];
}

const showKey = (k: Row) =>
  Object.entries(k)
    .map(([n, v]) => `${n}=${v}`)
    .join(' ');

/** One line per failed check, then the first differing keys: the message of a failed validation. */
export function describeMismatches(report: ValidationReport): string[] {
  const lines: string[] = [];
  for (const d of report.days.filter((x) => !x.ok)) {
    lines.push(`rows on ${d.day}: target ${d.target}, reference ${d.reference}`);
  }
  for (const s of report.sums.filter((x) => !x.ok)) {
    lines.push(`sum(${s.metric}): target ${s.target}, reference ${s.reference}`);
  }
  if (report.onlyInTarget.count > 0) lines.push(`${report.onlyInTarget.count} key(s) only in the target`);
  if (report.onlyInReference.count > 0) lines.push(`${report.onlyInReference.count} key(s) only in the reference`);
  for (const s of report.sampled) {
    for (const c of s.columns.filter((x) => !x.ok)) {
      lines.push(`sampled ${showKey(s.key)}: ${c.name} target ${c.target}, reference ${c.reference}`);
    }
  }
  if (report.fullDiff && report.fullDiff.differing > 0) lines.push(`${report.fullDiff.differing} row(s) differ`);
  if (report.firstDifferingKeys.length > 0) {
    lines.push(`first differing keys: ${report.firstDifferingKeys.map(showKey).join('; ')}`);
  }
  return lines;
}
