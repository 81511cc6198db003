import { ApplicationFailure } from '@temporalio/common';
import type { z } from 'zod';
import { backfillInputSchema, type BackfillInput } from '../shared/backfill-input';
import { dailyInputSchema, type DailyInput } from '../shared/daily-input';
import { FailureType } from '../shared/failure-types';
import { importInputSchema, type ImportInput } from '../shared/import-input';
import { describeIssues } from '../shared/input-errors';
import {
  ledgerHistoryInputSchema,
  testDayInputSchema,
  type LedgerHistoryWorkflowInput,
  type TestDayWorkflowInput,
} from '../shared/plan-input';
import { rollbackInputSchema, type RollbackInput } from '../shared/rollback-input';
import { validateInputSchema, type ValidateInput } from '../shared/validate-input';
import { viewBackfillInputSchema, type ViewBackfillInput } from '../shared/view-input';

/** Parses `raw` with `schema`, defaults applied; bad input fails non-retryably, one line per field. */
function resolve<S extends z.ZodType>(schema: S, raw: unknown, workflow: string): z.infer<S> {
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    throw ApplicationFailure.create({
      message: `invalid ${workflow} input:\n${describeIssues(parsed.error)}`,
      type: FailureType.InvalidInput,
      nonRetryable: true,
    });
  }
  return parsed.data;
}

/**
 * Where a workflow's input enters: each workflow's first step (a local activity) parses its raw input and applies
 * the schema's defaults here, outside workflow code. The result is recorded in the workflow's history, so a
 * default changed in a later release never changes how a running workflow replays or what it does next; only
 * new workflows see it. Inputs started by our CLI or schedules arrive with every default already applied.
 *
 * Durability: pure, no I/O; safe to repeat.
 */
export function inputResolvers() {
  return {
    async resolveBackfillInput(raw: unknown): Promise<BackfillInput> {
      return resolve(backfillInputSchema, raw, 'backfillWorkflow');
    },
    async resolveDailyInput(raw: unknown): Promise<DailyInput> {
      return resolve(dailyInputSchema, raw, 'dailyIncrementalWorkflow');
    },
    async resolveRollbackInput(raw: unknown): Promise<RollbackInput> {
      return resolve(rollbackInputSchema, raw, 'rollbackWorkflow');
    },
    async resolveViewBackfillInput(raw: unknown): Promise<ViewBackfillInput> {
      return resolve(viewBackfillInputSchema, raw, 'viewBackfillWorkflow');
    },
    async resolveImportInput(raw: unknown): Promise<ImportInput> {
      return resolve(importInputSchema, raw, 'importWorkflow');
    },
    async resolveValidateInput(raw: unknown): Promise<ValidateInput> {
      return resolve(validateInputSchema, raw, 'validateWorkflow');
    },
    async resolveTestDayInput(raw: unknown): Promise<TestDayWorkflowInput> {
      return resolve(testDayInputSchema, raw, 'testBackfillDayWorkflow');
    },
    async resolveLedgerHistoryInput(raw: unknown): Promise<LedgerHistoryWorkflowInput> {
      return resolve(ledgerHistoryInputSchema, raw, 'ledgerHistoryWorkflow');
    },
  };
}
