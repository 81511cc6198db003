import { proxyActivities, proxyLocalActivities } from '@temporalio/workflow';
import type { Activities } from '../../activities';
import type { LedgerHistory } from '../../activities/engine/ledger';
import type { LedgerHistoryWorkflowInputRaw } from '../../shared/plan-input';

const { readLedgerHistory } = proxyActivities<Activities>({
  startToCloseTimeout: '5m',
  retry: { maximumAttempts: 1 },
});

const { resolveLedgerHistoryInput } = proxyLocalActivities<Activities>({
  startToCloseTimeout: '1m',
  retry: { maximumAttempts: 1 },
});

/**
 * `ch-backfill history`: the ledger's rows of a target, newest first, read on a worker (in embedded mode only the
 * worker may open the data directory).
 *
 * Durability: read-only, not retried; a lost run is simply asked again.
 */
export async function ledgerHistoryWorkflow(raw: LedgerHistoryWorkflowInputRaw): Promise<LedgerHistory> {
  return readLedgerHistory(await resolveLedgerHistoryInput(raw));
}
