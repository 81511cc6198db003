import { z } from 'zod';
import { ExpressionSyntaxError, parseAggregateMetric, parseExpression } from '../sql/expression';
import { isPlainIdentifier } from '../sql/quote-identifier';
import { loadThresholdsSchema } from './load-thresholds';
import { dailyJobSchema, durationSchema } from './daily-job';

/** A plain ClickHouse name; anything else (quotes, spaces, dots, semicolons, backticks) is refused. */
export const plainName = z.string().max(128).refine(isPlainIdentifier, {
  message: 'must be a plain name (letters, digits, underscores; no quotes, spaces, dots or semicolons)',
});

/** A table, optionally qualified by its database: `events` or `analytics.events`. */
export const tableName = z
  .string()
  .max(257)
  .refine((t) => t.split('.').length <= 2 && t.split('.').every(isPlainIdentifier), {
    message: 'must be a plain table name, optionally as database.table (no quotes, spaces or semicolons)',
  });

/** Refines a string field with a parser from src/sql/expression, reporting its message on failure. */
function parsedWith(parse: (text: string) => unknown) {
  return (text: string, ctx: z.RefinementCtx): void => {
    try {
      parse(text);
    } catch (err) {
      if (!(err instanceof ExpressionSyntaxError)) throw err;
      ctx.addIssue({ code: 'custom', message: err.message });
    }
  };
}

/** Settings that shape the heavy INSERT … SELECT; every one optional, sent only when given. */
export const insertSettingsSchema = z
  .object({
    max_threads: z.number().int().positive(),
    max_insert_threads: z.number().int().positive(),
    min_insert_block_size_rows: z.number().int().nonnegative(),
    min_insert_block_size_bytes: z.number().int().nonnegative(),
    max_memory_usage: z.number().int().nonnegative(),
    max_bytes_before_external_group_by: z.number().int().nonnegative(),
  })
  .partial()
  .strict();
export type InsertSettings = z.infer<typeof insertSettingsSchema>;

export const partitionGranularity = z.enum(['month', 'day']);
export type PartitionGranularity = z.infer<typeof partitionGranularity>;

export const validationSchema = z
  .object({
    /** `full` also compares distinct keys and metric sums with the source; `fast` checks row totals only. */
    mode: z.enum(['full', 'fast']).default('full'),
    /** Relative tolerance for floating-point sums. */
    relativeTolerance: z.number().nonnegative().max(1).default(1e-9),
  })
  .strict();

/**
 * How a job writes the live table: what to do when another job holds a partition, when to ask before a
 * partition shrinks, and how long replaced partitions are kept for `rollback`.
 */
export const safetySchema = z
  .object({
    /** `wait`: re-check on a durable timer until the partition is free; `fail`: fail that partition at once. */
    whenPartitionBusy: z.enum(['wait', 'fail']).default('wait'),
    /** Seconds between two attempts to take a busy partition. */
    busyRecheckSeconds: z.number().int().positive().max(3600).default(10),
    /**
     * A validated partition holding more than this fraction fewer rows than the live one waits for an
     * operator's `approve` or `reject` (0.1: 10 % fewer). 1 never asks.
     */
    maxShrink: z.number().min(0).max(1).default(0.1),
    /** How long the live partitions a backfill replaced are kept for `rollback`, e.g. `7d`. */
    backupRetention: durationSchema.default('7d'),
  })
  .strict();
export type Safety = z.infer<typeof safetySchema>;

/**
 * A pre-aggregation job: per key columns and date, one row of aggregate metrics, built from raw events.
 * The same object is accepted from a YAML/JSON job file and as workflow input.
 */
export const aggregateJobSchema = z
  .object({
    kind: z.literal('aggregate'),
    /** Optional human name, used in workflow ids and logs. */
    name: plainName.optional(),
    source: z.object({ table: tableName, timeColumn: plainName }).strict(),
    target: z.object({ table: tableName }).strict(),
    partitionBy: partitionGranularity.default('month'),
    keys: z.array(plainName).min(1, { message: 'needs at least one key column' }),
    date: z
      .object({
        /** Output column name of the date. */
        column: plainName.default('date'),
        /** Expression over the source that yields a Date, e.g. `toDate(ts)`. Parsed, never pasted. */
        expression: z.string().superRefine(parsedWith(parseExpression)),
      })
      .strict(),
    /** Output column name → aggregate expression over the source, e.g. `daily_events: count()`. */
    metrics: z
      .record(plainName, z.string().superRefine(parsedWith(parseAggregateMetric)))
      .refine((m) => Object.keys(m).length > 0, { message: 'needs at least one metric' }),
    chunkSize: z.number().int().positive().default(1_000_000),
    parallelism: z.number().int().positive().max(64).default(1),
    insertSettings: insertSettingsSchema.default({}),
    validation: validationSchema.default({ mode: 'full', relativeTolerance: 1e-9 }),
    /** When the backfill pauses itself for cluster load; defaults in src/shared/load-thresholds.ts. */
    load: loadThresholdsSchema.prefault({}),
    /** Settings of the daily incremental run; defaults apply when absent. */
    daily: dailyJobSchema.optional(),
    /** Locks, shrink guard and backups; defaults in {@link safetySchema}. */
    safety: safetySchema.prefault({}),
  })
  .strict()
  .superRefine((job, ctx) => {
    const seen = new Set<string>();
    for (const name of [...job.keys, job.date.column, ...Object.keys(job.metrics)]) {
      if (seen.has(name)) {
        ctx.addIssue({
          code: 'custom',
          path: ['metrics'],
          message: `output column "${name}" is named twice (keys, date column and metrics must all differ)`,
        });
      }
      seen.add(name);
    }
  });

/** Every job kind; more kinds (plain copies with dependent materialized views) join this union. */
export const jobSpecSchema = z.discriminatedUnion('kind', [aggregateJobSchema]);

export type AggregateJob = z.infer<typeof aggregateJobSchema>;
export type JobSpec = z.infer<typeof jobSpecSchema>;
export type JobSpecInput = z.input<typeof jobSpecSchema>;
