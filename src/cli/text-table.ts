/**
 * A plain-text table: a header, a rule of dashes and the rows, columns two spaces apart. Columns before `leftFrom`
 * are right-aligned (numbers), the others left-aligned (words); lines carry no trailing spaces.
 */
export function textTable(header: string[], rows: string[][], leftFrom = header.length): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i >= leftFrom ? c.padEnd(widths[i]) : c.padStart(widths[i])))
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}
