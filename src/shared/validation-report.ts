export type Row = Record<string, string>;

export interface ValidationReport {
  target: string;
  reference: string;
  from: string;
  to: string;
  ok: boolean;
  relativeTolerance: number;
  days: { day: string; target: number; reference: number; ok: boolean }[];
  sums: { metric: string; target: string; reference: string; ok: boolean }[];
  onlyInTarget: { count: number; examples: Row[] };
  onlyInReference: { count: number; examples: Row[] };
  sampled: { key: Row; columns: { name: string; target: string; reference: string; ok: boolean }[] }[];
  fullDiff?: { differing: number; examples: { key: Row; columns: string[] }[] };
  /** The first keys (and dates) found to differ, over every check. */
  firstDifferingKeys: Row[];
}

const showKey = (k: Row) =>
  Object.entries(k)
    .map(([n, v]) => `${n}=${v}`)
    .join(' ');

/** One line per failed check, then the first differing keys: the message of a failed validation. */
export function describeMismatches(report: ValidationReport): string[] {
  const lines: string[] = [];
  for (const d of report.days.filter((x) => !x.ok)) {
    lines.push(`rows on ${d.day}: target ${d.target}, reference ${d.reference}`);
  }
  for (const s of report.sums.filter((x) => !x.ok)) {
    lines.push(`sum(${s.metric}): target ${s.target}, reference ${s.reference}`);
  }
  if (report.onlyInTarget.count > 0) lines.push(`${report.onlyInTarget.count} key(s) only in the target`);
  if (report.onlyInReference.count > 0) lines.push(`${report.onlyInReference.count} key(s) only in the reference`);
  for (const s of report.sampled) {
    for (const c of s.columns.filter((x) => !x.ok)) {
      lines.push(`sampled ${showKey(s.key)}: ${c.name} target ${c.target}, reference ${c.reference}`);
    }
  }
  if (report.fullDiff && report.fullDiff.differing > 0) lines.push(`${report.fullDiff.differing} row(s) differ`);
  if (report.firstDifferingKeys.length > 0) {
    lines.push(`first differing keys: ${report.firstDifferingKeys.map(showKey).join('; ')}`);
  }
  return lines;
}
