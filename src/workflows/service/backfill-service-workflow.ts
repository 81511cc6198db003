import {
  ApplicationFailure,
  allHandlersFinished,
  condition,
  continueAsNew,
  defineUpdate,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import { ASK_UPDATE, SERVICE_QUESTIONS, type ServiceAsk, type ServiceQuestion } from '../../shared/service-workflow';
import { describeBackfillWorkflow } from '../aggregate/describe-backfill-workflow';
import { describeImportWorkflow } from '../import/describe-import-workflow';
import { describeViewBackfillWorkflow } from '../view/describe-view-workflow';
import { describeViewRestateWorkflow } from '../view-restate/describe-view-restate-workflow';
import { doctorWorkflow } from './doctor-workflow';
import { ledgerHistoryWorkflow } from './ledger-history-workflow';

/** How many questions one run answers before it continues as new, keeping each history short. */
export const QUESTIONS_PER_RUN = 200;

const answers: Record<ServiceQuestion, (...args: never[]) => Promise<unknown>> = {
  describeBackfillWorkflow,
  describeImportWorkflow,
  describeViewBackfillWorkflow,
  describeViewRestateWorkflow,
  doctorWorkflow,
  ledgerHistoryWorkflow,
};

export const askUpdate = defineUpdate<unknown, [ServiceAsk]>(ASK_UPDATE);

/**
 * The CLI's read-only questions, answered as `ask` Updates by one long-lived workflow per task queue instead of one
 * short workflow each: an Update runs the body of the read-only workflow it names (`describeBackfillWorkflow`,
 * `doctorWorkflow`, `ledgerHistoryWorkflow`, …), so its activities, timeouts and refusals are those workflows'. A
 * failed question fails its Update only; the service keeps answering.
 *
 * Durability: holds no state between questions; after {@link QUESTIONS_PER_RUN} questions, or when the server
 * suggests it, it waits for every handler to finish and continues as new. An Update naming no known question is
 * rejected before it enters the history.
 */
export async function backfillServiceWorkflow(): Promise<void> {
  let asked = 0;
  setHandler(
    askUpdate,
    async ({ question, args }) => {
      asked++;
      return answers[question](...(args as never[]));
    },
    {
      validator: ({ question }) => {
        if (!(SERVICE_QUESTIONS as readonly string[]).includes(question)) {
          throw ApplicationFailure.nonRetryable(`the worker answers no question ${JSON.stringify(question)}`);
        }
      },
    },
  );
  await condition(() => asked >= QUESTIONS_PER_RUN || workflowInfo().continueAsNewSuggested);
  await condition(allHandlersFinished);
  await continueAsNew<typeof backfillServiceWorkflow>();
}
