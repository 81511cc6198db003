import { z } from 'zod';
import { aggregateJobSchema, viewRestateJobSchema } from './job-spec';
import { isPlainIdentifier } from './plain-identifier';
import { refusing } from './refused-value';

/** A table named `database.table`, as a backfill resolved it. */
const qualifiedTable = z
  .string()
  .max(257)
  .refine((t) => t.split('.').length === 2 && t.split('.').every(isPlainIdentifier), {
    ...refusing('is not a plain table name written database.table'),
  });

/**
 * Input of `rollbackWorkflow`: which partitions of which backfill to restore, from the backup table that
 * backfill kept. `ch-backfill rollback` fills it from the backfill's input and `progress`.
 */
export const rollbackInputSchema = z
  .object({
    /** Workflow id of the backfill being rolled back (for messages). */
    backfill: z.string().min(1),
    /** The job of the backfill: an aggregate job, or a view restate. */
    job: z.discriminatedUnion('kind', [aggregateJobSchema, viewRestateJobSchema]),
    target: qualifiedTable,
    backup: qualifiedTable,
    /** Each partition with the rows its backup holds (0: it did not exist before the backfill). */
    partitions: z
      .array(
        z
          .object({
            id: z.string().regex(/^\d{6}(\d{2})?$/, refusing('is not a partition id such as 202401 or 20240115')),
            rows: z.number().int().nonnegative(),
          })
          .strict(),
      )
      .min(1),
    /**
     * A view restate of a chain: each level below `target` with the backup its restate kept, each after the level
     * it reads (the restate's `progress.chain`); restored with the target, the partition's `rows` counting every
     * level's.
     */
    chain: z.array(z.object({ target: qualifiedTable, backup: qualifiedTable }).strict()).optional(),
  })
  .strict();

export type RollbackInput = z.infer<typeof rollbackInputSchema>;
export type RollbackInputRaw = z.input<typeof rollbackInputSchema>;

export interface RollbackSummary {
  backfill: string;
  target: string;
  /** Per partition: rows it holds again; `emptied` when it did not exist before the backfill (it is empty now). */
  partitions: { partition: string; rows: number; emptied: boolean }[];
}
