import { ApplicationFailure } from '@temporalio/workflow';
import type { z } from 'zod';
import { describeIssues } from '../shared/input-errors';

/** Parses a workflow's input at its edge; bad input fails the workflow non-retryably, naming each field. */
export function parseInput<S extends z.ZodType>(schema: S, raw: unknown, workflow: string): z.infer<S> {
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    throw ApplicationFailure.nonRetryable(
      `invalid ${workflow} input:\n${describeIssues(parsed.error)}`,
      'InvalidInput',
    );
  }
  return parsed.data;
}
