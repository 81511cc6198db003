import type { Statement } from '../../clickhouse/statement';
import type { PartitionBounds } from '../../shared/partitions';
import type { AggregationShape } from './aggregation-shape';
import { dateRangeFilter, rangeParams } from './aggregation';
import { renderExpression } from '../engine/expression';
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
