import type { Statement } from '../../clickhouse/statement';
import { tableParam } from './table-param';
import type { TableRef } from '../../shared/table-ref';

/**
 * Stops background merges of one table, so that its active parts stay as the inserts wrote them (one part per
 * insert block and partition): how many blocks an INSERT made shows in {@link selectActiveParts}.
 */
export function stopMerges(table: TableRef): Statement {
  const t = tableParam('table', table);
  return { query: `SYSTEM STOP MERGES ${t.sql}`, params: t.params };
}

/** The active parts of a table and the rows they hold, from the parts' metadata (reads no data). */
export function selectActiveParts(table: TableRef): Statement<{ parts: string; rows: string }> {
  return {
    query: [
      'SELECT toString(count()) AS parts, toString(sum(rows)) AS rows FROM system.parts',
      'WHERE database = {db:String} AND table = {name:String} AND active',
    ].join('\n'),
    params: { db: table.database, name: table.name },
  };
}
