import type { Client } from '@temporalio/client';
import type { LedgerEntry } from '../../shared/ledger';
import type { ledgerHistoryWorkflow } from '../../workflows';
import { askService } from '../ask-service';
import { errorLine } from '../error-line';

/** The most ledger rows a report reads (the ledger keeps every swap of the target, newest first). */
const LEDGER_ROWS = 10_000;

/**
 * The ledger rows `writer` (the job's workflow id) recorded on `target`, by partition (its newest per partition),
 * read on the worker as `history` reads them (on a cluster synced first, on the job's `cluster`); or why they could
 * not be read.
 */
export async function ledgerRowsOf(
  client: Client,
  target: string,
  ledger: string | undefined,
  writer: string,
  cluster?: string,
): Promise<{ rows: Map<string, LedgerEntry>; note?: string }> {
  try {
    const history = await askService<typeof ledgerHistoryWorkflow>(
      client,
      'ledgerHistoryWorkflow',
      [{ target, ...(ledger ? { ledger } : {}), ...(cluster ? { cluster } : {}), limit: LEDGER_ROWS }],
      { what: 'history' },
    );
    const rows = new Map<string, LedgerEntry>();
    for (const e of history.entries) if (e.writer === writer && !rows.has(e.partition)) rows.set(e.partition, e);
    return { rows };
  } catch (err) {
    return { rows: new Map(), note: `the ledger was not read: ${errorLine(err)}` };
  }
}
