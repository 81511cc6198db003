import type { Client } from '@temporalio/client';
import type { describeBackfillWorkflow } from '../../workflows';
import { errorLine } from '../error-line';
import { askWorker } from '../ask-worker';
import { parseBackfillInput } from '../kinds/aggregate';
import type { ReportStatements } from './job-report';

/**
 * The statements of a job. Neither Temporal's history nor the ledger records statement text (activities build
 * them), so for an aggregate backfill they are rendered by its dry run (`describeBackfillWorkflow`, what `plan`
 * prints) from the input its first run recorded, against the tables as they are now; other kinds say so.
 */
export async function reportStatements(
  client: Client,
  workflowType: string,
  input: unknown,
): Promise<ReportStatements> {
  if (workflowType !== 'backfillWorkflow') {
    return {
      statements: [],
      source: `statements are not recorded in ${workflowType}'s history; run \`ch-backfill plan --job <file>\` on its job file to see them`,
    };
  }
  try {
    const description = await askWorker<typeof describeBackfillWorkflow>(
      client,
      'describeBackfillWorkflow',
      [parseBackfillInput(input)],
      { idPrefix: 'describe-backfill', what: 'plan' },
    );
    return {
      statements: description.statements,
      source:
        "statements are not recorded in the job's history or the ledger: these are rendered by the job's dry run " +
        '(as `ch-backfill plan` prints them) from the input the job recorded, against the tables as they are now, ' +
        'so salts and shadow names may differ from the run',
    };
  } catch (err) {
    return { statements: [], source: `statements could not be rendered by the dry run: ${errorLine(err)}` };
  }
}
