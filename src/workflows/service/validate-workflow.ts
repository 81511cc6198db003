import { ApplicationFailure, proxyActivities, proxyLocalActivities } from '@temporalio/workflow';
import type { Activities } from '../../activities';
import { FailureType } from '../../shared/failure-types';
import { type ValidateInputRaw } from '../../shared/validate-input';
import { describeMismatches, type ValidationReport } from '../../shared/validation-report';

const { compareWithReference } = proxyActivities<Activities>({
  startToCloseTimeout: '6h',
  heartbeatTimeout: '20s',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s', maximumAttempts: 10 },
});

const { resolveValidateInput } = proxyLocalActivities<Activities>({
  startToCloseTimeout: '1m',
  retry: { maximumAttempts: 3 },
});

/**
 * Compares the job's target with a reference (the legacy Spark output as a ClickHouse table or Parquet files)
 * over a range of days. Returns the report when everything agrees; otherwise fails non-retryably
 * (`ValidationMismatch`) with one line per failed check and the first differing keys, the full report as the
 * failure's details.
 *
 * Durability: a single read-only activity, retried on transient errors; nothing is written.
 */
export async function validateWorkflow(raw: ValidateInputRaw): Promise<ValidationReport> {
  const input = await resolveValidateInput(raw);
  const report = await compareWithReference(input);
  if (!report.ok) {
    throw ApplicationFailure.create({
      message: `${report.target} differs from ${report.reference}:\n${describeMismatches(report).join('\n')}`,
      type: FailureType.ReferenceMismatch,
      nonRetryable: true,
      details: [report],
    });
  }
  return report;
}
