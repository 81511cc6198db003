import { z } from 'zod';
import { isoDate } from './backfill-input';
import { aggregateJobSpecSchema, plainName, tableName } from './job-spec';
import { DEFAULT_LEDGER_TABLE } from './ledger';
import { refusing } from './refused-value';

/** Input of `testBackfillDayWorkflow` (`ch-backfill plan --test-day`): an aggregate job and the day to test. */
export const testDayInputSchema = z.object({ job: aggregateJobSpecSchema, day: isoDate }).strict();
export type TestDayWorkflowInput = z.infer<typeof testDayInputSchema>;
export type TestDayWorkflowInputRaw = z.input<typeof testDayInputSchema>;

/** Input of `ledgerHistoryWorkflow` (`ch-backfill history`): the target, its ledger table, and what to show. */
export const ledgerHistoryInputSchema = z
  .object({
    target: tableName,
    ledger: plainName.default(DEFAULT_LEDGER_TABLE),
    partition: z
      .string()
      .regex(/^\d{6}(\d{2})?$/, refusing('is not a partition id, YYYYMM or YYYYMMDD'))
      .optional(),
    limit: z.number().int().positive().max(10_000).default(100),
    /**
     * On a self-managed replicated cluster with the target in an `Atomic` database: the cluster the ledger is synced
     * on before it is read, when the server is listed in more than one (the job's `cluster:`, see docs/clusters.md).
     */
    cluster: plainName.optional(),
  })
  .strict();
export type LedgerHistoryWorkflowInput = z.infer<typeof ledgerHistoryInputSchema>;
export type LedgerHistoryWorkflowInputRaw = z.input<typeof ledgerHistoryInputSchema>;
