import type { BackfillSummary, PartitionStep, UnchangedPartitions } from '../shared/backfill-results';
import { textTable } from './text-table';

const STEPS: PartitionStep[] = ['prepare', 'insert', 'validate', 'backup', 'swap', 'cleanup'];

const seconds = (ms: number | undefined) => ((ms ?? 0) / 1000).toFixed(2);

/** Partitions listed one per line up to this many; a longer summary lists only those emptied. */
const LIST_ALL_UP_TO = 100;

/**
 * The summary a backfill returns, as a table a person reads: one line per partition (only the emptied ones past
 * a hundred partitions), the step times summed over partitions, then the totals.
 */
export function formatSummary(summary: BackfillSummary): string {
  const { unchanged } = summary;
  if (unchanged && summary.partitions.length === 0 && summary.failed.length === 0) {
    return [`${unchangedLine(unchanged)}: nothing to do`, ...trustedRows(unchanged)].join('\n');
  }
  const listed =
    summary.partitions.length <= LIST_ALL_UP_TO ? summary.partitions : summary.partitions.filter((p) => p.emptied);
  const rows = listed.map((p) => [
    p.partition,
    String(p.salt),
    p.rowsRead.toLocaleString('en-US'),
    p.rowsWritten.toLocaleString('en-US'),
    p.emptied ? `emptied (${p.rowsBefore.toLocaleString('en-US')} before)` : p.rowsBefore.toLocaleString('en-US'),
  ]);
  const { stepMs } = summary.totals;
  const rate = summary.elapsedMs > 0 ? Math.round((summary.rowsRead / summary.elapsedMs) * 1000) : 0;
  return [
    textTable(['partition', 'salt', 'rows read', 'rows written', 'live rows before'], rows),
    ...(listed.length < summary.partitions.length
      ? [`(${summary.partitions.length - listed.length} more partitions swapped, not listed)`]
      : []),
    '',
    `steps, summed over partitions: ${STEPS.filter((s) => stepMs[s] !== undefined)
      .map((s) => `${s} ${seconds(stepMs[s])} s`)
      .join(', ')}`,
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
    ...(unchanged ? [`${unchangedLine(unchanged)}: left as they are`] : []),
  ].join('\n');
}

const unchangedLine = (u: UnchangedPartitions): string =>
  `${u.count} ${u.count === 1 ? 'partition' : 'partitions'} unchanged since ${u.since}`;

/** The ledger rows `--only changed` trusted, one per partition, as far as the plan kept them. */
function trustedRows(u: UnchangedPartitions): string[] {
  const table = textTable(
    ['partition', 'target rows', 'swapped at', 'by'],
    u.rows.map((r) => [r.partition, r.targetRows.toLocaleString('en-US'), r.swappedAt, r.writer]),
    2,
  );
  return [
    'the ledger rows trusted (the source is as each swap read it):',
    table,
    ...(u.rows.length < u.count ? [`(${u.count - u.rows.length} more, not listed)`] : []),
  ];
}

/**
 * Each validation check, one line per check name, with how many of the swapped partitions passed it (a mismatch
 * fails its partition and is named in the failure; each check's values are in its partition workflow's result).
 */
export function formatValidation(summary: BackfillSummary): string {
  const total = summary.partitions.length;
  return Object.entries(summary.totals.checksPassed)
    .map(([name, passed]) => `ok  ${name}: passed in ${passed} of ${total} partitions`)
    .join('\n');
}
