/** Formatting of bench figures, shared by the bench's reports. */

export const mib = (bytes: number | undefined): string =>
  bytes === undefined ? 'n/a' : `${(bytes / 2 ** 20).toFixed(1)} MiB`;
export const seconds = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;
export const rowsPerSec = (rate: number): string => `${Math.round(rate).toLocaleString('en-US')} rows/s`;
export const count = (n: number | string): string => Number(n).toLocaleString('en-US');
export const passOrMiss = (pass: boolean): string => (pass ? 'PASS' : 'MISS');
/** `a/b` as `2.41×`, `n/a` when either side is missing or b is 0. */
export function ratio(a: number | undefined, b: number | undefined): string {
  return a === undefined || b === undefined || b === 0 ? 'n/a' : `${(a / b).toFixed(2)}×`;
}

/** A Markdown table whose columns are padded to their widest cell. */
export function markdownTable(header: string[], rows: string[][]): string[] {
  const widths = header.map((_, col) => Math.max(...[header, ...rows].map((cells) => cells[col].length)));
  const row = (cells: string[]): string => `| ${cells.map((cell, col) => cell.padEnd(widths[col])).join(' | ')} |`;
  return [row(header), `| ${widths.map((w) => '-'.repeat(w)).join(' | ')} |`, ...rows.map(row)];
}
