import { z } from 'zod';
import { ExpressionSyntaxError, functionsOf, parseAggregateMetric, parseExpression } from './expression-syntax';
import { functionRefusal } from './function-allow-list';
import { isPlainIdentifier } from './plain-identifier';
import { refusing } from './refused-value';
import { loadThresholdsSchema } from './load-thresholds';
import { dailyJobSchema, durationSchema } from './daily-job';
import { DEFAULT_LEDGER_TABLE } from './ledger';
import { SNAPSHOT_CUTOFF } from './snapshot-cutoff';
import { fileBatchesSchema, fileSourceSchema } from './import-file-source';
import { COLLAPSING_ENGINE } from './view-target-engine';

/** The engines the structured form (`groupBy` + `aggregates`) writes: the job's declared engine, a family name. */
const STRUCTURED_FORM_ENGINES: ReadonlySet<string> = new Set(['SummingMergeTree', 'AggregatingMergeTree']);

/** Why a view target's engine is refused. */
const ENGINE_REFUSAL =
  'is not SummingMergeTree, AggregatingMergeTree, MergeTree, ReplacingMergeTree or CollapsingMergeTree(<sign column>)';

/** A plain ClickHouse name; anything else (quotes, spaces, dots, semicolons, backticks) is refused. */
export const plainName = z
  .string()
  .max(128)
  .refine(
    isPlainIdentifier,
    refusing('is not a plain name (letters, digits, underscores; no quotes, spaces, dots or semicolons)'),
  );

/** A table, optionally qualified by its database: `events` or `analytics.events`. */
export const tableName = z
  .string()
  .max(257)
  .refine((t) => t.split('.').length <= 2 && t.split('.').every(isPlainIdentifier), {
    ...refusing('is not a plain table name, optionally as database.table (no quotes, spaces or semicolons)'),
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

/**
 * Functions a job calls beyond the allowed families of src/shared/function-allow-list.ts (docs/functions.md), e.g.
 * `[dictGet]`: naming them makes using them a visible decision. Functions that read files or URLs or only load
 * the server stay refused.
 */
const allowFunctionsSchema = z.array(plainName).max(100).optional();

/**
 * Adds an issue at `path` for each function an expression calls that the job may not (see {@link functionRefusal}).
 * Expressions that do not parse are skipped: their own field reports them.
 */
function refuseFunctions(
  expressions: [path: (string | number)[], text: string][],
  allowFunctions: readonly string[] | undefined,
  ctx: z.RefinementCtx,
): void {
  for (const [path, text] of expressions) {
    let names: string[];
    try {
      names = functionsOf(parseExpression(text));
    } catch {
      continue;
    }
    for (const name of names) {
      const refusal = functionRefusal(name, allowFunctions);
      if (refusal) ctx.addIssue({ code: 'custom', path, message: refusal });
    }
  }
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
    /**
     * 0: the GROUP BY does not size its hash table from the statistics of earlier runs of the same query shape, so
     * a spilling INSERT never starts with a table sized for a previous, bigger or unspilled one.
     */
    collect_hash_table_stats_during_aggregation: z.number().int().min(0).max(1),
    /**
     * Write buffer of each file a spilling GROUP BY writes (default 1 MiB). On the bench's data the query's peak grew
     * with the number of spilled files, and a smaller buffer kept it close to the spill threshold.
     */
    temporary_files_buffer_size: z.number().int().positive(),
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
 * partition shrinks, how long replaced partitions are kept for `rollback`, and how soon a step whose worker died
 * is retried.
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
    /**
     * Seconds a running partition step (build, backup, swap) or snapshot may go without a heartbeat before Temporal
     * counts its worker as dead and retries it, on whichever worker polls next. The steps heartbeat a few times
     * within it.
     */
    heartbeatTimeoutSeconds: z.number().int().min(3).max(600).default(20),
    /**
     * Run on a single server older than 26.6 although, on a plain MergeTree-family target, parts a swap replaced
     * can come back after a server restart (ClickHouse #107605, fixed in 26.6), duplicating or reverting those
     * partitions. Absent or false: the plan refuses such a server (docs/servers.md).
     */
    acceptPre266ReplacedParts: z.boolean().optional(),
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
    /**
     * On a self-managed replicated cluster with the target in an `Atomic` database: the cluster its DDL goes
     * `ON CLUSTER` to (`system.clusters`), when the server is listed in more than one (see docs/clusters.md).
     */
    cluster: plainName.optional(),
    /**
     * On a sharded cluster (`Distributed` source and target): `keyFollowsJobKeys: true` states that every group of
     * the job's keys lives on one shard although the plan cannot see it from the sharding key (see
     * docs/clusters.md); the plan prints the consequence. Absent: the plan checks the sharding key itself.
     */
    sharding: z
      .object({ keyFollowsJobKeys: z.literal(true) })
      .strict()
      .optional(),
    /** Settings of the daily incremental run; defaults apply when absent. */
    daily: dailyJobSchema.optional(),
    /** Locks, shrink guard and backups; defaults in {@link safetySchema}. */
    safety: safetySchema.prefault({}),
    allowFunctions: allowFunctionsSchema,
    /** The table in the target's database where every swap is recorded (see src/shared/ledger.ts). */
    ledger: z
      .object({ table: plainName.default(DEFAULT_LEDGER_TABLE) })
      .strict()
      .prefault({}),
  })
  .strict()
  .superRefine((job, ctx) => {
    refuseFunctions(
      [
        [['date', 'expression'], job.date.expression],
        ...Object.entries(job.metrics).map(([name, text]): [string[], string] => [['metrics', name], text]),
      ],
      job.allowFunctions,
      ctx,
    );
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

/** A cutoff written in a job: UTC to the second, e.g. `2024-12-17T09:00:00Z`. */
const CUTOFF = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})Z$/;

/**
 * Epoch seconds of a job's cutoff text, or undefined when it is not a real UTC time inside the DateTime range.
 * The result is a safe integer, so it renders as digits only.
 */
export function parseCutoff(text: string): number | undefined {
  const m = CUTOFF.exec(text);
  if (!m) return undefined;
  const [y, mo, d, h, mi, s] = m.slice(1).map(Number);
  const ms = Date.UTC(y, mo - 1, d, h, mi, s);
  const back = new Date(ms);
  if (back.getUTCMonth() !== mo - 1 || back.getUTCDate() !== d || h > 23 || mi > 59 || s > 59) return undefined;
  const seconds = ms / 1000;
  return Number.isSafeInteger(seconds) && seconds > 0 && seconds < 2 ** 32 ? seconds : undefined;
}

/** The view's INSERT settings: the aggregate kind's, plus the block sizes of the Null-engine fill's view. */
export const viewInsertSettingsSchema = z
  .object({
    ...insertSettingsSchema.shape,
    min_insert_block_size_rows_for_materialized_views: z.number().int().nonnegative(),
    min_insert_block_size_bytes_for_materialized_views: z.number().int().nonnegative(),
  })
  .partial()
  .strict();

/**
 * Adding a materialized view to a table that already holds data (the ClickHouse guide's scenario 2): the view
 * is created for rows from a cutoff on, and the rows before it are backfilled into its target, partition by
 * partition. With `cutoff: snapshot` and no time column (the guide's last scenario) the view takes every row
 * inserted after it exists, and the rows before come from a snapshot taken while inserts are paused. The view's
 * SELECT is given in parts, each parsed by the expression grammar and re-rendered.
 */
export const viewJobSchema = z
  .object({
    kind: z.literal('view'),
    name: plainName.optional(),
    /**
     * The table the view reads, and its DateTime/DateTime64 column the cutoff applies to (none with `cutoff:
     * snapshot`).
     */
    source: z.object({ table: tableName, timeColumn: plainName.optional() }).strict(),
    target: z
      .object({
        table: tableName,
        /**
         * SummingMergeTree: only count()/sum() aggregates; AggregatingMergeTree stores `-State` values. A view given
         * as SQL (`select`, `sql`) may also write a plain MergeTree, a ReplacingMergeTree, or a
         * `CollapsingMergeTree(<sign column>)` (the sign an output of the SELECT).
         */
        engine: z
          .union(
            [
              z.enum(['SummingMergeTree', 'AggregatingMergeTree', 'MergeTree', 'ReplacingMergeTree']),
              z.string().regex(COLLAPSING_ENGINE, refusing(ENGINE_REFUSAL)),
            ],
            refusing(ENGINE_REFUSAL),
          )
          .default('SummingMergeTree'),
        /** A view given as SQL: the target's ORDER BY (output columns); its first one is the partition column. */
        orderBy: z.array(plainName).min(1).optional(),
        /**
         * `none`: one partition (the guide's `pypi_downloads`); `month`/`day`: by the first groupBy column, which
         * must be a Date or DateTime.
         */
        partitionBy: z.enum(['none', 'month', 'day']).default('none'),
      })
      .strict(),
    /** The materialized view to create (its name, in the target's database unless qualified). */
    view: z.object({ name: tableName }).strict(),
    /**
     * The view's SELECT as SQL, exactly what would follow `AS` in `CREATE MATERIALIZED VIEW … TO … AS`: parsed by the
     * server, one SELECT reading the source (and the `dimensions`), kept character for character.
     */
    select: z.string().min(1).max(100_000).optional(),
    /**
     * The whole `CREATE MATERIALIZED VIEW … TO … AS SELECT …` text. A job file gives it as `sqlFile:` (a path relative
     * to the job file), which `ch-backfill` reads into `sql` before the workflow starts, so its history holds the text.
     */
    sql: z.string().min(1).max(100_000).optional(),
    /** Tables and dictionaries the SQL may read besides the source: read as they are at fill time. */
    dimensions: z.array(tableName).max(20).default([]),
    /** Output column → expression over the source (also the target's ORDER BY, in this order). */
    groupBy: z
      .record(plainName, z.string().superRefine(parsedWith(parseExpression)))
      .refine((g) => Object.keys(g).length > 0, { message: 'needs at least one column' })
      .optional(),
    /** Output column → one aggregate call, e.g. `count: count()`. */
    aggregates: z
      .record(plainName, z.string().superRefine(parsedWith(parseAggregateMetric)))
      .refine((a) => Object.keys(a).length > 0, { message: 'needs at least one aggregate' })
      .optional(),
    /** Optional row filter of the view, same grammar (no string literals). */
    where: z.string().superRefine(parsedWith(parseExpression)).optional(),
    /**
     * `auto`: the moment `cutoffMarginSeconds` ahead of the plan, chosen when the workflow starts; or
     * a UTC time (`2024-12-17T09:00:00Z`) that must still be ahead, unless the view already exists with it; or
     * `snapshot`: no time column, the source is snapshotted while an operator keeps inserts paused.
     */
    cutoff: z
      .string()
      .refine((c) => c === 'auto' || c === SNAPSHOT_CUTOFF || parseCutoff(c) !== undefined, {
        ...refusing('is not auto, snapshot or a UTC time written YYYY-MM-DDThh:mm:ssZ'),
      })
      .default('auto'),
    /** How far ahead an automatic cutoff lies: time for the view's CREATE to land before the first row it owns. */
    cutoffMarginSeconds: z.number().int().min(3).max(86_400).default(60),
    /** How long after the cutoff the fill waits, for rows timestamped before it that arrive late. */
    latenessSeconds: z.number().int().nonnegative().max(86_400).default(5),
    /**
     * `ranged`: `INSERT … SELECT <view query>` per partition; `null`: the guide's Null-engine path (a Null table
     * of the needed columns, and a copy of the view reading it and writing the shadow), memory bounded by blocks.
     */
    fill: z.enum(['ranged', 'null']).default('ranged'),
    /**
     * What the target's engine lets validation compare against the view's query (docs/kinds/view.md). `full`
     * (default): with the distinct keys; `fast`: without them where a count() output of the structured form shows a
     * lost or doubled row (without one the keys are still compared, so that validation can always fail).
     */
    validation: validationSchema.default({ mode: 'full', relativeTolerance: 1e-9 }),
    parallelism: z.number().int().positive().max(64).default(1),
    insertSettings: viewInsertSettingsSchema.default({}),
    load: loadThresholdsSchema.prefault({}),
    /**
     * On a self-managed replicated cluster with the target in an `Atomic` database: the cluster its DDL goes
     * `ON CLUSTER` to (`system.clusters`), when the server is listed in more than one (see docs/clusters.md).
     */
    cluster: plainName.optional(),
    safety: safetySchema.prefault({}),
    allowFunctions: allowFunctionsSchema,
  })
  .strict()
  .superRefine((job, ctx) => {
    const forms = [
      job.groupBy !== undefined || job.aggregates !== undefined ? 'groupBy/aggregates' : undefined,
      job.select !== undefined ? 'select' : undefined,
      job.sql !== undefined ? 'sql' : undefined,
    ].filter((f) => f !== undefined);
    if (forms.length !== 1) {
      ctx.addIssue({
        code: 'custom',
        path: forms.length === 0 ? ['select'] : [forms[1] ?? forms[0]],
        message:
          forms.length === 0
            ? 'give the view as select: (SQL), sqlFile: (a CREATE MATERIALIZED VIEW file) or groupBy + aggregates'
            : `give the view one way only (found ${forms.join(', ')})`,
      });
    }
    if (forms[0] === 'groupBy/aggregates') {
      if (job.groupBy === undefined) ctx.addIssue({ code: 'custom', path: ['groupBy'], message: 'required' });
      if (job.aggregates === undefined) ctx.addIssue({ code: 'custom', path: ['aggregates'], message: 'required' });
      if (!STRUCTURED_FORM_ENGINES.has(job.target.engine)) {
        ctx.addIssue({
          code: 'custom',
          path: ['target', 'engine'],
          message: 'groupBy + aggregates write a SummingMergeTree or AggregatingMergeTree; give the view as select:',
        });
      }
    } else if (forms.length === 1) {
      if (job.target.orderBy === undefined) {
        ctx.addIssue({ code: 'custom', path: ['target', 'orderBy'], message: 'required with a view given as SQL' });
      }
      if (job.where !== undefined) {
        ctx.addIssue({ code: 'custom', path: ['where'], message: 'write the filter in the SELECT itself' });
      }
      if (job.cutoff === SNAPSHOT_CUTOFF) {
        ctx.addIssue({ code: 'custom', path: ['cutoff'], message: 'a view given as SQL needs a time column cutoff' });
      }
      if (job.fill !== 'ranged') {
        ctx.addIssue({ code: 'custom', path: ['fill'], message: 'a view given as SQL is filled ranged' });
      }
    }
    refuseFunctions(
      [
        ...Object.entries(job.groupBy ?? {}).map(([name, text]): [string[], string] => [['groupBy', name], text]),
        ...Object.entries(job.aggregates ?? {}).map(([name, text]): [string[], string] => [['aggregates', name], text]),
        ...(job.where !== undefined ? [[['where'], job.where] as [string[], string]] : []),
      ],
      job.allowFunctions,
      ctx,
    );
    const seen = new Set<string>();
    for (const name of [...Object.keys(job.groupBy ?? {}), ...Object.keys(job.aggregates ?? {})]) {
      if (seen.has(name)) {
        ctx.addIssue({ code: 'custom', path: ['aggregates'], message: `output column "${name}" is named twice` });
      }
      seen.add(name);
    }
    const snapshot = job.cutoff === SNAPSHOT_CUTOFF;
    if (!snapshot && job.source.timeColumn === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['source', 'timeColumn'],
        message:
          'required: the DateTime column the cutoff applies to; for a source without one, omit it and set ' +
          'cutoff: snapshot (inserts are paused while the source is snapshotted)',
      });
    }
    if (snapshot && job.source.timeColumn !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['source', 'timeColumn'],
        message:
          'not used with cutoff: snapshot (the view takes every row inserted once it exists); remove it, or ' +
          'give cutoff: auto to split the rows by it instead',
      });
    }
  });

/**
 * Loading history into a live table and every materialized-view target fed from it while ingestion goes on (the
 * ClickHouse guide's scenario 1): the history before a checkpoint goes, one partition of the table at a time, into
 * `_v2` duplicates of the table and of the views' targets (the views copied from `system.tables`), then every
 * duplicate's partitions are moved into their live tables. The job names no view: they are discovered.
 */
export const importJobSchema = z
  .object({
    kind: z.literal('import'),
    name: plainName.optional(),
    /** The live table ingestion writes, and its DateTime/DateTime64 column the checkpoint applies to. */
    target: z.object({ table: tableName, timeColumn: plainName }).strict(),
    /**
     * The history: a ClickHouse table holding the target's columns (same names and types; more are ignored), or
     * files (`s3`, `url` or `file` with globs, and a `format`) holding columns of the target's names (converted).
     */
    source: z.union([z.object({ table: tableName }).strict(), fileSourceSchema]),
    /** File sources: how the listed files are grouped into batches. */
    fileBatches: fileBatchesSchema.prefault({}),
    /**
     * `auto`: `min(<timeColumn>)` of the live table when the run plans (to the microsecond), recorded in its
     * history; or a UTC time (`2024-12-17T09:00:00Z`) not in the future, before which the live table holds no rows.
     * Only history rows before it are loaded.
     */
    checkpoint: z
      .string()
      .refine((c) => c === 'auto' || parseCutoff(c) !== undefined, {
        ...refusing('is not auto or a UTC time written YYYY-MM-DDThh:mm:ssZ'),
      })
      .default('auto'),
    parallelism: z.number().int().positive().max(64).default(1),
    /** Sent with each batch's INSERT; the `_for_materialized_views` block sizes apply to the views it fires. */
    insertSettings: viewInsertSettingsSchema.default({}),
    validation: z
      .object({
        /** For float totals of the view targets. */
        relativeTolerance: z.number().nonnegative().max(1).default(1e-9),
        /**
         * Compare each view target's totals with its view's SELECT over the batch (see README); off for a view
         * whose summed columns are not additive across insert blocks. The main table's rows are always checked.
         */
        viewTotals: z.boolean().default(true),
      })
      .strict()
      .prefault({}),
    load: loadThresholdsSchema.prefault({}),
    /**
     * On a self-managed replicated cluster with the target in an `Atomic` database: the cluster its DDL goes
     * `ON CLUSTER` to (`system.clusters`), when the server is listed in more than one (see docs/clusters.md).
     */
    cluster: plainName.optional(),
    safety: safetySchema.prefault({}),
  })
  .strict();

/**
 * Restating an existing materialized view's target, partition by partition: each partition of the target in the
 * run's range (`--from/--to` days, or `partitions`) is rebuilt from the view's source with the view's stored query
 * (`system.tables.as_select`) and replaced (`REPLACE PARTITION`), kept for rollback. The live view goes on writing:
 * only partitions entirely before `writesEndBefore`, which the user states the view writes no more rows into, are
 * taken; any other is refused by name before anything is created.
 */
export const viewRestateJobSchema = z
  .object({
    kind: z.literal('view-restate'),
    name: plainName.optional(),
    /** The existing materialized view (with a `TO` table): its stored query and its target are read from the server. */
    view: tableName,
    /** Explicit partition ids of the target (e.g. `202401`), instead of `--from/--to`. */
    partitions: z
      .array(z.string().regex(/^\d{6}(\d{2})?$/, 'a partition id: YYYYMM or YYYYMMDD'))
      .min(1)
      .optional(),
    /**
     * A UTC time (`2024-12-01T00:00:00Z`) from which on the live view writes no rows into any partition ending
     * before it: partitions entirely before it are restated while ingestion runs. Required unless `ingestion` is
     * `paused-by-operator`.
     */
    writesEndBefore: z
      .string()
      .refine((c) => parseCutoff(c) !== undefined, {
        message: 'must be a UTC time written YYYY-MM-DDThh:mm:ssZ',
      })
      .optional(),
    /**
     * `runs` (the default): ingestion into the view's source goes on, so every partition must lie before
     * `writesEndBefore`. `paused-by-operator`: the partitions the live view can still write into are taken too;
     * the run restates the others first, then waits for `ch-backfill confirm <id>` (the operator paused ingestion
     * into the source), restates those, and says when ingestion may resume.
     */
    ingestion: z.enum(['runs', 'paused-by-operator']).default('runs'),
    parallelism: z.number().int().positive().max(64).default(1),
    insertSettings: insertSettingsSchema.default({}),
    validation: z
      .object({ relativeTolerance: z.number().nonnegative().max(1).default(1e-9) })
      .strict()
      .prefault({}),
    load: loadThresholdsSchema.prefault({}),
    /**
     * On a self-managed replicated cluster with the target in an `Atomic` database: the cluster its DDL goes
     * `ON CLUSTER` to (`system.clusters`), when the server is listed in more than one (see docs/clusters.md).
     */
    cluster: plainName.optional(),
    safety: safetySchema.prefault({}),
    /** The table in the target's database where every swap is recorded (see src/shared/ledger.ts). */
    ledger: z
      .object({ table: plainName.default(DEFAULT_LEDGER_TABLE) })
      .strict()
      .prefault({}),
  })
  .strict()
  .refine((job) => job.writesEndBefore !== undefined || job.ingestion === 'paused-by-operator', {
    path: ['writesEndBefore'],
    message:
      'required: the UTC time before which the live view writes no more rows; or set ingestion: paused-by-operator ' +
      'to pause ingestion and confirm before the partitions it still writes into',
  });

/**
 * Every job kind. The backfill, daily run, rollback and reference validation take aggregate jobs
 * ({@link aggregateJobSpecSchema}); a view job runs as `viewBackfillWorkflow`, an import job as `importWorkflow`.
 */
export const jobSpecSchema = z.discriminatedUnion('kind', [
  aggregateJobSchema,
  viewJobSchema,
  importJobSchema,
  viewRestateJobSchema,
]);

/** The jobs a backfill, daily run, rollback or reference validation takes. */
export const aggregateJobSpecSchema = z.discriminatedUnion('kind', [aggregateJobSchema]);

export type AggregateJob = z.infer<typeof aggregateJobSchema>;
export type ViewJob = z.infer<typeof viewJobSchema>;
export type ViewJobInput = z.input<typeof viewJobSchema>;
export type ImportJob = z.infer<typeof importJobSchema>;
export type ViewRestateJob = z.infer<typeof viewRestateJobSchema>;

/** How messages name an import's history: its table, or `s3 <path> (<format>)` for files. */
export function historyName(job: ImportJob): string {
  const s = job.source;
  if ('table' in s) return s.table;
  const [fn, path] = 's3' in s ? ['s3', s.s3] : 'url' in s ? ['url', s.url] : ['file', s.file];
  return `${fn} ${path} (${s.format})`;
}
export type ImportJobInput = z.input<typeof importJobSchema>;
export type JobSpec = z.infer<typeof jobSpecSchema>;
export type JobSpecInput = z.input<typeof aggregateJobSpecSchema>;
