import type { PartitionPlan } from '../../shared/backfill-results';
import type { PartitionProgress } from '../../shared/progress';

type Cell = string | number | boolean | null;

/**
 * Records as a table: the column names once, then one array of cells per record. Object-valued fields are
 * flattened one level (`result.rowsWritten`); absent fields are `null`. In JSON this is several times smaller
 * than the records themselves, whose keys repeat in every record.
 */
export interface Columns {
  names: string[];
  rows: Cell[][];
}

/** The partitions of a job as it carries them into its next run (continue-as-new), see {@link packPartitions}. */
export interface CarriedPartitions {
  /** Every partition's progress entry, in order. */
  entries: Columns;
  /** The plan of each partition still to run. */
  plans: Columns;
}

const SEP = '.';

function toColumns(records: object[]): Columns {
  const names: string[] = [];
  const flat = records.map((record) => {
    const cells = new Map<string, Cell>();
    for (const [key, value] of Object.entries(record)) {
      if (value !== null && typeof value === 'object') {
        for (const [sub, inner] of Object.entries(value as object)) cells.set(key + SEP + sub, inner as Cell);
      } else cells.set(key, value as Cell);
    }
    for (const [name, value] of cells) if (value !== undefined && !names.includes(name)) names.push(name);
    return cells;
  });
  return { names, rows: flat.map((cells) => names.map((name) => cells.get(name) ?? null)) };
}

function fromColumns<T>({ names, rows }: Columns): T[] {
  return rows.map((cells) => {
    const record: Record<string, unknown> = {};
    names.forEach((name, i) => {
      const value = cells[i];
      if (value === null) return;
      const [key, sub] = name.split(SEP);
      if (sub === undefined) record[key] = value;
      else ((record[key] ??= {}) as Record<string, unknown>)[sub] = value;
    });
    return record as T;
  });
}

/**
 * Packs a job's partitions for its next run: every progress entry (closed ones only keep their state and
 * outcome, see `PartitionLoopState.compactForCarry`) and the plans of the partitions still pending. A ten-year
 * daily job (3,650 partitions) packs into about 0.3 MB at most (all pending), a seventh of Temporal's 2 MB payload
 * limit.
 */
export function packPartitions<P extends PartitionPlan>(entries: PartitionProgress[], plans: P[]): CarriedPartitions {
  const pending = new Set(entries.filter((e) => e.state === 'pending').map((e) => e.id));
  return { entries: toColumns(entries), plans: toColumns(plans.filter((p) => pending.has(p.id))) };
}

/** The progress entries and pending plans that {@link packPartitions} packed. */
export function unpackPartitions<P extends PartitionPlan>(
  carried: CarriedPartitions,
): { entries: PartitionProgress[]; plans: P[] } {
  return { entries: fromColumns<PartitionProgress>(carried.entries), plans: fromColumns<P>(carried.plans) };
}
