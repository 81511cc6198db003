import type { BackfillSummary, PartitionStep } from '../shared/backfill-results';
import { textTable } from './text-table';

const STEPS: PartitionStep[] = ['prepare', 'insert', 'validate', 'backup', 'swap', 'cleanup'];

const seconds = (ms: number | undefined) => ((ms ?? 0) / 1000).toFixed(2);

/** The summary a backfill returns, as a table a person reads: one line per partition, then the totals. */
export function formatSummary(summary: BackfillSummary): string {
  const rows = summary.partitions.map((p) => [
    p.partition,
    String(p.salt),
    p.rowsRead.toLocaleString('en-US'),
    p.rowsWritten.toLocaleString('en-US'),
    ...STEPS.map((s) => seconds(p.stepMs[s])),
    p.checks.every((c) => c.ok) ? `ok (${p.checks.length} checks)` : 'MISMATCH',
  ]);
  const rate = summary.elapsedMs > 0 ? Math.round((summary.rowsRead / summary.elapsedMs) * 1000) : 0;
  return [
    textTable(['partition', 'salt', 'rows read', 'rows written', ...STEPS.map((s) => `${s} s`), 'validation'], rows),
    '',
    `${summary.partitions.length} partitions swapped into ${summary.target}, ${summary.failed.length} failed; ` +
      `${summary.rowsRead.toLocaleString('en-US')} rows read, ${summary.rowsWritten.toLocaleString('en-US')} written ` +
      `in ${seconds(summary.elapsedMs)} s (${rate.toLocaleString('en-US')} rows/s).`,
    ...summary.partitions
      .filter((p) => p.emptied)
      .map((p) => `${p.partition}: source empty, ${p.rowsBefore.toLocaleString('en-US')} rows removed`),
    ...(summary.backup && summary.partitions.some((p) => (p.backupRows ?? 0) > 0)
      ? [`The partitions replaced are kept in ${summary.backup} for rollback.`]
      : []),
    ...summary.failed.map((f) => `FAILED ${f.partition}: ${f.error}`),
  ].join('\n');
}

/** Each validation check of each partition, one line per check. */
export function formatValidation(summary: BackfillSummary): string {
  return summary.partitions
    .flatMap((p) => p.checks.map((c) => `${p.partition}  ${c.ok ? 'ok      ' : 'MISMATCH'}  ${c.name}: ${c.actual}`))
    .join('\n');
}
