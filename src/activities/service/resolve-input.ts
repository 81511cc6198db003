import { ApplicationFailure } from '@temporalio/common';
import type { z } from 'zod';
import { backfillInputSchema } from '../../shared/backfill-input';
import { dailyInputSchema } from '../../shared/daily-input';
import { FailureType } from '../../shared/failure-types';
import { importInputSchema } from '../../shared/import-input';
import { describeIssues } from '../../shared/input-errors';
import { ledgerHistoryInputSchema, testDayInputSchema } from '../../shared/plan-input';
import { rollbackInputSchema, type RollbackInput } from '../../shared/rollback-input';
import type { ServerProfile } from '../../shared/server-profile';
import { tableRefOf } from '../../shared/table-ref';
import type { ActivityDeps } from '../engine/deps';
import { detectServerProfile } from '../engine/server-profile';
import { refuseUnsupportedServer } from '../engine/server-refusal';
import { JobSpecError } from '../engine/errors';
import { validateInputSchema } from '../../shared/validate-input';
import { viewBackfillInputSchema } from '../../shared/view-input';
import { viewRestateInputSchema } from '../../shared/view-restate-input';

/**
 * The local activity that resolves one workflow's input: parses `raw` with `schema`, defaults applied; bad input
 * fails non-retryably, one line per field.
 */
function inputResolver<S extends z.ZodType>(schema: S, workflow: string): (raw: unknown) => Promise<z.infer<S>> {
  return async (raw) => {
    const parsed = schema.safeParse(raw);
    if (!parsed.success) {
      throw ApplicationFailure.create({
        message: `invalid ${workflow} input:\n${describeIssues(parsed.error)}`,
        type: FailureType.InvalidInput,
        nonRetryable: true,
      });
    }
    return parsed.data;
  };
}

/**
 * Where a workflow's input enters: each workflow's first step (a local activity) parses its raw input and applies
 * the schema's defaults here, outside workflow code. The result is recorded in the workflow's history, so a
 * default changed in a later release never changes how a running workflow replays or what it does next; only
 * new workflows see it. Inputs started by our CLI or schedules arrive with every default already applied.
 *
 * A rollback's input also gets the server's profile, as a plan records it for every other job (a rollback plans
 * nothing else), so its partition tasks are built for the server they run on; a server the tool cannot write is
 * refused before anything is restored.
 *
 * Durability: parsing is pure; the rollback's profile is a few reads of system tables. Safe to repeat.
 */
export function inputResolvers({ clickhouse: ch }: ActivityDeps) {
  const parseRollbackInput = inputResolver(rollbackInputSchema, 'rollbackWorkflow');
  return {
    resolveBackfillInput: inputResolver(backfillInputSchema, 'backfillWorkflow'),
    resolveDailyInput: inputResolver(dailyInputSchema, 'dailyIncrementalWorkflow'),
    async resolveRollbackInput(raw: unknown): Promise<RollbackInput & { server?: ServerProfile }> {
      const input = await parseRollbackInput(raw);
      const target = tableRefOf(input.target);
      const server = await detectServerProfile(ch, [target, tableRefOf(input.backup)], {
        target,
        cluster: input.job.kind === 'aggregate' ? input.job.cluster : undefined,
      });
      // An aggregate backfill's rollback restores per (partition, shard), as the backfill swapped.
      refuseUnsupportedServer(server, target, input.job.safety, 'replace', {
        perShard: input.job.kind === 'aggregate',
      });
      const whole = server.sharding ? input.partitions.filter((p) => !p.id.includes('@')) : [];
      if (whole.length > 0) {
        throw new JobSpecError(
          'partitions',
          `${input.target} is sharded: a rollback restores each shard's part of a partition, ` +
            `<partition>@<shard> as the backfill's status lists it, not ${whole.map((p) => p.id).join(', ')}`,
        );
      }
      return { ...input, server };
    },
    resolveViewBackfillInput: inputResolver(viewBackfillInputSchema, 'viewBackfillWorkflow'),
    resolveImportInput: inputResolver(importInputSchema, 'importWorkflow'),
    resolveViewRestateInput: inputResolver(viewRestateInputSchema, 'viewRestateWorkflow'),
    resolveValidateInput: inputResolver(validateInputSchema, 'validateWorkflow'),
    resolveTestDayInput: inputResolver(testDayInputSchema, 'testBackfillDayWorkflow'),
    resolveLedgerHistoryInput: inputResolver(ledgerHistoryInputSchema, 'ledgerHistoryWorkflow'),
  };
}
