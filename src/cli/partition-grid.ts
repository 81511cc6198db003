import type { PartitionProgress, PartitionState } from '../shared/progress';

type Cell = PartitionState | 'emptied';

/** Each state's letter (without colour) and ANSI colour (on a terminal, drawn as a block). */
const LOOK: Record<Cell, { letter: string; color: number; label: string }> = {
  pending: { letter: '.', color: 90, label: 'pending' },
  waiting: { letter: 'w', color: 33, label: 'waiting' },
  running: { letter: 'r', color: 36, label: 'running' },
  validated: { letter: 'v', color: 34, label: 'validated' },
  swapped: { letter: 's', color: 32, label: 'swapped' },
  emptied: { letter: 'e', color: 92, label: 'emptied' },
  failed: { letter: 'F', color: 31, label: 'failed' },
  cancelled: { letter: 'c', color: 35, label: 'cancelled' },
};

const cellOf = (p: PartitionProgress): Cell => (p.state === 'swapped' && p.result?.emptied ? 'emptied' : p.state);

function draw(cell: Cell | undefined, color: boolean): string {
  if (!cell) return ' ';
  return color ? `\x1b[${LOOK[cell].color}m■\x1b[0m` : LOOK[cell].letter;
}

const QUARTER_START = ['01-01', '04-01', '07-01', '10-01'];
const DAY_MS = 86_400_000;

/**
 * Rows of cells: for monthly ids (`YYYYMM`) one row per year, a column per month; for daily ids (`YYYYMMDD`) four
 * rows per year, one per quarter, a column per day, so ten years of days take 40 rows of 92 cells; anything else in
 * rows of 60 in plan order.
 */
function layout(partitions: PartitionProgress[]): { label: string; cells: (PartitionProgress | undefined)[] }[] {
  const rows = new Map<string, (PartitionProgress | undefined)[]>();
  const put = (label: string, width: number, column: number, p: PartitionProgress) => {
    const row = rows.get(label) ?? new Array<PartitionProgress | undefined>(width).fill(undefined);
    row[column] = p;
    rows.set(label, row);
  };
  if (partitions.every((p) => /^\d{6}$/.test(p.id))) {
    for (const p of partitions) put(p.id.slice(0, 4), 12, Number(p.id.slice(4)) - 1, p);
  } else if (partitions.every((p) => /^\d{8}$/.test(p.id))) {
    for (const p of partitions) {
      const [y, m, d] = [p.id.slice(0, 4), Number(p.id.slice(4, 6)), p.id.slice(6)];
      const q = Math.floor((m - 1) / 3);
      const day = Date.parse(`${y}-${String(m).padStart(2, '0')}-${d}T00:00:00Z`);
      const column = Math.round((day - Date.parse(`${y}-${QUARTER_START[q]}T00:00:00Z`)) / DAY_MS);
      put(`${y} Q${q + 1}`, 92, column, p);
    }
  } else {
    partitions.forEach((p, i) => put(String(Math.floor(i / 60) * 60 + 1).padStart(5), 60, i % 60, p));
  }
  return [...rows.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([label, cells]) => ({ label, cells }));
}

/**
 * A compact picture of every partition's state, one cell each, with a legend of the states present: coloured
 * blocks on a terminal (`color`), letters otherwise.
 */
export function partitionGrid(partitions: PartitionProgress[], color: boolean): string {
  if (partitions.length === 0) return '';
  const rows = layout(partitions);
  const width = Math.max(...rows.map((r) => r.label.length));
  const lines = rows.map(
    ({ label, cells }) =>
      `${label.padEnd(width)} ${cells
        .map((p) => draw(p && cellOf(p), color))
        .join('')
        .trimEnd()}`,
  );
  const present = new Set(partitions.map(cellOf));
  const legend = (Object.keys(LOOK) as Cell[])
    .filter((c) => present.has(c))
    .map((c) => `${draw(c, color)} ${LOOK[c].label}`);
  return [...lines, legend.join('  ')].join('\n');
}
