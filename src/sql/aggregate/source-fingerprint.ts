import type { Statement } from '../../clickhouse/statement';
import type { PartitionBounds } from '../../shared/partitions';
import type { AggregationShape } from './aggregation-shape';
import { dateRangeFilter, rangeParams } from './aggregation';
import { renderExpression } from '../engine/expression';
import type { Expr } from '../../shared/expression-syntax';
import { tableParam } from '../engine/table-param';
import type { TableRef } from '../../shared/table-ref';

/** One day of the source, as {@link selectSourceFingerprintDays} returns it. */
export interface FingerprintDayRow {
  day: string;
  rows: string;
  bytes: string;
  /** Highest block or mutation number of the parts holding the day's rows. */
  version: string;
  /** Highest data version (first block, or mutation) of those parts. */
  data_version: string;
  /** Each of those parts as `<name>:<hash_of_all_files>` (its content: a mutation that left it unchanged keeps it). */
  parts: string[];
  /** Epoch seconds. */
  modified: string;
}

/**
 * Per day of the range: the source rows whose date falls on it, the source parts holding them (named by the `_part`
 * virtual column) and those parts' metadata from `system.parts`. Reads only the date expression's columns. The parts
 * are looked up without `active`, so a part merged away while the query ran is still found; MergeTree sources only.
 * The date expression is the job's, or a view restate's day of a source row (src/sql/view-restate/source-date.ts).
 */
export function selectSourceFingerprintDays(
  shape: Pick<AggregationShape, 'dateExpr'>,
  source: TableRef,
  range: Pick<PartitionBounds, 'start' | 'end'>,
): Statement<FingerprintDayRow> {
  const src = tableParam('source', source);
  return {
    query: [
      'SELECT toString(r.__day) AS day, toString(sum(r.__rows)) AS rows,',
      '  toString(round(sum(r.__rows * p.bytes_on_disk / greatest(p.rows, 1)))) AS bytes,',
      '  toString(max(greatest(p.max_block_number, p.data_version))) AS version,',
      '  toString(max(p.data_version)) AS data_version,',
      "  groupUniqArray(concat(r.__part, ':', p.hash_of_all_files)) AS parts,",
      '  toString(toUnixTimestamp(max(p.modification_time))) AS modified',
      `FROM (SELECT ${renderExpression(shape.dateExpr)} AS __day, _part AS __part, count() AS __rows`,
      `  FROM ${src.sql}`,
      `  WHERE ${dateRangeFilter(shape)}`,
      '  GROUP BY __day, __part) AS r',
      'INNER JOIN (SELECT name, rows, bytes_on_disk, max_block_number, data_version, modification_time, hash_of_all_files',
      '  FROM system.parts WHERE database = {parts_db:String} AND table = {parts_table:String}) AS p',
      'ON p.name = r.__part',
      'GROUP BY r.__day ORDER BY r.__day',
    ].join('\n'),
    params: { ...src.params, ...rangeParams(range), parts_db: source.database, parts_table: source.name },
  };
}

/**
 * The partition-key column a date expression reads the day of, as `system.parts` keeps its minimum and maximum per
 * part: a `Date` column itself (`min_date`, `max_date`) or `toDate` of a `DateTime` column (`min_time`, `max_time`).
 * Undefined for any other expression: its days are known only by scanning.
 */
export interface PartDayBounds {
  column: string;
  type: 'Date' | 'DateTime';
}

export function partDayBoundsOf(dateExpr: Expr): PartDayBounds | undefined {
  if (dateExpr.kind === 'column') return { column: dateExpr.name, type: 'Date' };
  const [arg] = dateExpr.kind === 'call' && !dateExpr.params && dateExpr.args.length === 1 ? dateExpr.args : [];
  if (dateExpr.kind === 'call' && dateExpr.name === 'toDate' && arg?.kind === 'column') {
    return { column: arg.name, type: 'DateTime' };
  }
  return undefined;
}

/** One active part of the source, as {@link selectSourcePartDays} returns it. */
export interface SourcePartRow {
  name: string;
  rows: string;
  bytes: string;
  /** `greatest(max_block_number, data_version)`, as {@link FingerprintDayRow}'s `version`. */
  version: string;
  data_version: string;
  hash: string;
  /** Epoch seconds. */
  modified: string;
  /** The first and last day of the part's rows (valid when `day_exact` is 1). */
  first_day: string;
  last_day: string;
  /** 1 when rows of the part are masked by a lightweight delete: its `rows` counts them, so it must be scanned. */
  masked: number;
  /**
   * 1 when the part's minimum and maximum are those of the date expression's column: it is the only column of its
   * type in the partition key (so `system.parts` keeps its range), of exactly that type (no other time zone). Else
   * every active part is listed and their days are unknown.
   */
  day_exact: number;
}

/**
 * The source's active parts whose days (by the partition key's min/max, see {@link PartDayBounds}) meet the range,
 * with the metadata the fingerprint takes from them; every active part when those days are not exact (`day_exact`
 * 0). Reads `system.parts` and `system.columns` only, never the source's data.
 */
export function selectSourcePartDays(
  bounds: PartDayBounds,
  source: TableRef,
  range: Pick<PartitionBounds, 'start' | 'end'>,
): Statement<SourcePartRow> {
  const [min, max] = bounds.type === 'Date' ? ['min_date', 'max_date'] : ['min_time', 'max_time'];
  return {
    query: [
      'WITH (SELECT countIf(type = {day_type:String}) = 1 AND anyIf(name, type = {day_type:String}) = {day_column:String}',
      '  FROM system.columns WHERE database = {parts_db:String} AND table = {parts_table:String}',
      '    AND is_in_partition_key) AS exact',
      'SELECT name, toString(rows) AS rows, toString(bytes_on_disk) AS bytes,',
      '  toString(greatest(p.max_block_number, p.data_version)) AS version, toString(p.data_version) AS data_version,',
      '  hash_of_all_files AS hash, toString(toUnixTimestamp(modification_time)) AS modified,',
      `  toString(toDate(${min})) AS first_day, toString(toDate(${max})) AS last_day,`,
      "  toUInt8(has_lightweight_delete OR startsWith(name, 'patch-')) AS masked, toUInt8(exact) AS day_exact",
      'FROM system.parts AS p WHERE database = {parts_db:String} AND table = {parts_table:String} AND active',
      `  AND (NOT exact OR (toDate(${max}) >= {range_start:Date} AND toDate(${min}) < {range_end:Date}))`,
    ].join('\n'),
    params: {
      ...rangeParams(range),
      parts_db: source.database,
      parts_table: source.name,
      day_type: bounds.type,
      day_column: bounds.column,
    },
  };
}

/** The source rows of one day in one part, as {@link selectSourceDaysByPart} returns them. */
export interface SourceDayPartRow {
  day: string;
  part: string;
  rows: string;
}

/**
 * Per day of the range and part: the source rows, skipping the parts `known` (whose days their metadata told):
 * reads only the date expression's columns of the other parts. A part made since those were listed (a merge, an
 * insert) is read too, so the caller sees it.
 */
export function selectSourceDaysByPart(
  shape: Pick<AggregationShape, 'dateExpr'>,
  source: TableRef,
  range: Pick<PartitionBounds, 'start' | 'end'>,
  known: string[],
): Statement<SourceDayPartRow> {
  const src = tableParam('source', source);
  return {
    query: [
      `SELECT toString(${renderExpression(shape.dateExpr)}) AS day, _part AS part, toString(count()) AS rows`,
      `FROM ${src.sql}`,
      `WHERE ${dateRangeFilter(shape)} AND _part NOT IN {known_parts:Array(String)}`,
      'GROUP BY day, part',
    ].join('\n'),
    params: { ...src.params, ...rangeParams(range), known_parts: known },
  };
}
