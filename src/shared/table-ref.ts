/** A table with its database resolved, as the plan fixes it for every later step. */
export interface TableRef {
  database: string;
  name: string;
}

/** `database.table` → its reference (the schema has checked the form). */
export function tableRefOf(qualified: string): TableRef {
  const [database, name] = qualified.split('.');
  return { database, name };
}

/** A table's reference → `database.table`, as logs, summaries and messages show it. */
export function qualifiedName(table: TableRef): string {
  return `${table.database}.${table.name}`;
}
