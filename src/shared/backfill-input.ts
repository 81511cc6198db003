import { z } from 'zod';
import { aggregateJobSpecSchema } from './job-spec';
import { ONLY_MODES } from './ledger';
import { isoDateRefusal, parseIsoDate } from './partitions';
import { refusedValue, refusing } from './refused-value';

/** A calendar day written `YYYY-MM-DD`. */
export const isoDate = z.string().refine((s) => parseIsoDate(s) !== undefined, {
  error: (issue) => isoDateRefusal(String(issue.input)),
});

/**
 * Input of `backfillWorkflow`: a job and an inclusive range of days. Every partition the range touches is
 * rebuilt whole from the source, so a range that starts mid-month still leaves that month complete.
 */
export const backfillInputSchema = z
  .object({
    job: aggregateJobSpecSchema,
    from: isoDate,
    to: isoDate,
    /**
     * Only these partition ids of the range (e.g. the failed ones of an earlier run); all when absent. On a sharded
     * cluster one shard's part of a partition is `<partition id>@<shard>`, as `status` lists it.
     */
    partitions: z
      .array(
        z
          .string()
          .regex(
            /^\d{6}(\d{2})?(@\d+)?$/,
            refusing('is not a partition id such as 202401, 20240115 or (one shard of it) 202401@2'),
          ),
      )
      .min(1)
      .optional(),
    /** Swap partitions that shrink past the job's `safety.maxShrink` without waiting for an operator. */
    allowShrink: z.boolean().default(false),
    /**
     * Which partitions of the range to take (chosen by the plan, src/shared/ledger.ts): `all`; `missing`, those with
     * source rows the target lacks; `changed`, those whose source or job definition changed since the ledger's
     * newest row of them; `failed`, the `partitions` that failed in the backfill `retryOf`.
     */
    only: z.enum(ONLY_MODES).default('all'),
    /** With `only: failed`: the earlier backfill whose failed partitions `partitions` lists. */
    retryOf: z.string().min(1).optional(),
  })
  .strict()
  .refine((i) => !parseIsoDate(i.from) || !parseIsoDate(i.to) || i.to >= i.from, {
    path: ['to'],
    error: (issue) => {
      const { from, to } = issue.input as { from: string; to: string };
      return `${refusedValue(to)} is before from (${refusedValue(from)})`;
    },
  })
  .refine((i) => i.only !== 'failed' || (i.partitions !== undefined && i.retryOf !== undefined), {
    path: ['only'],
    message: 'failed needs retryOf (the earlier backfill) and partitions (its failed partitions)',
  });

export type BackfillInput = z.infer<typeof backfillInputSchema>;
export type BackfillInputRaw = z.input<typeof backfillInputSchema>;
