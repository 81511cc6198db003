import type { TestDayResult } from '../activities/aggregate/test-day';
import { formatStatements } from './kinds/view-description';
import { qualifiedName } from '../shared/table-ref';

const count = (n: number): string => n.toLocaleString('en-US');

/** One row as `column=value` pairs, values as JSON shows them (strings unquoted). */
function pairs(row: Record<string, unknown>): string {
  return Object.entries(row)
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(' ');
}

/**
 * `plan --test-day` as a person reads it: where the day was aggregated (and that the table is gone), rows in and
 * out, each validation check, a few output rows each followed by source rows it came from, then the SQL it ran.
 */
export function formatTestDay(file: string, r: TestDayResult): string {
  const scratch = qualifiedName(r.scratch);
  const lines = [
    `test of ${file} on ${r.day}: aggregated into ${scratch} (dropped again; the target was not touched), ` +
      `salt ${r.salt}`,
    `${count(r.sourceRows)} source rows → ${count(r.outputRows)} output rows in ${(r.durationMs / 1000).toFixed(2)} s`,
    'checks:',
    ...r.checks.map(
      (c) =>
        `  ${c.ok ? 'ok      ' : 'MISMATCH'}  ${c.name}: ${c.ok ? c.actual : `expected ${c.expected}, got ${c.actual}`}`,
    ),
    `${r.samples.length} output rows, each with up to ${r.sourceRowsPerSample} of the source rows it came from:`,
  ];
  for (const sample of r.samples) {
    lines.push(`  ${pairs(sample.output)}`, ...sample.source.map((s) => `    ← ${pairs(s)}`));
  }
  lines.push('', 'what it ran:', ...formatStatements(r.statements));
  return lines.join('\n');
}
