import type { TableRef } from './backfill-results';

/** `database.table` → its reference (the schema has checked the form). */
export function tableRefOf(qualified: string): TableRef {
  const [database, name] = qualified.split('.');
  return { database, name };
}
