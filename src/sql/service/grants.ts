import type { Statement } from '../../clickhouse/statement';

/** The user the connection runs as. */
export function selectCurrentUser(): Statement<{ user: string }> {
  return { query: 'SELECT currentUser() AS user', params: {} };
}

/**
 * The current user's grants, one `GRANT …`/`REVOKE …` line per row (the column is named after the statement:
 * read the row's only value). `final`: with the grants of the user's roles (`SHOW GRANTS FINAL`, newer servers).
 */
export function showGrants(final: boolean): Statement<Record<string, string>> {
  return { query: final ? 'SHOW GRANTS FINAL' : 'SHOW GRANTS', params: {} };
}

/** Every privilege with its aliases and the group it belongs to (`ALTER DELETE` → `ALTER TABLE` → `ALTER` → `ALL`). */
export function selectPrivileges(): Statement<{ privilege: string; aliases: string[]; parent_group: string | null }> {
  return { query: 'SELECT privilege, aliases, parent_group FROM system.privileges', params: {} };
}
