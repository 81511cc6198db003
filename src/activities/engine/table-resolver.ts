import type { ClickHouse } from '../../clickhouse/clickhouse';
import { selectCurrentDatabase } from '../../sql/engine/introspection';
import type { TableRef } from '../../shared/table-ref';

/** Resolves `db.table` or `table` names against the connection's current database, asked once. */
export async function tableResolver(ch: ClickHouse): Promise<(name: string) => TableRef> {
  const [{ database }] = await ch.rows(selectCurrentDatabase());
  return (name) => {
    const [a, b] = name.split('.');
    return b === undefined ? { database, name: a } : { database: a, name: b };
  };
}
