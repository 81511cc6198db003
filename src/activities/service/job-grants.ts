import type { Topology } from '../../shared/server-profile';
import type { TableRef } from '../../shared/table-ref';

/** One privilege a job needs on one object: `db.table`, or `db.*` for the tables it creates in a database. */
export interface NeededGrant {
  privilege: string;
  on: string;
  /** What the job uses it for, for the doctor's line. */
  why: string;
}

/**
 * The least privileges a job needs (docs/servers.md): SELECT on the source table (an import from files reads
 * through `s3`/`url`/`file`, whose READ grant is not checked here); in the target's database, where the
 * shadows and backups live, SELECT, INSERT, CREATE TABLE, DROP TABLE, TRUNCATE and ALTER DELETE (REPLACE, ATTACH
 * and DROP PARTITION); for view and import jobs also ALTER MOVE PARTITION, CREATE VIEW and DROP VIEW; on Cloud
 * and on a replicated cluster SYSTEM SYNC REPLICA (reads after writes on another replica); on a replicated cluster
 * also the global `CLUSTER` privilege, which a server requires of `ON CLUSTER` statements when
 * `access_control_improvements.on_cluster_queries_require_cluster_grant` is on: the DDL in an `Atomic` database, and
 * in either database engine the syncs of every replica and `KILL QUERY` (`SYSTEM SYNC REPLICA ON CLUSTER`).
 */
export function neededGrants(
  kind: 'aggregate' | 'view' | 'import',
  source: TableRef | undefined,
  target: TableRef,
  topology: Topology,
): NeededGrant[] {
  const db = `${target.database}.*`;
  const needed: NeededGrant[] = [
    ...(source ? [{ privilege: 'SELECT', on: `${source.database}.${source.name}`, why: 'read the source' }] : []),
    { privilege: 'SELECT', on: db, why: 'validate shadows and read the target' },
    { privilege: 'INSERT', on: db, why: 'fill shadows' },
    { privilege: 'CREATE TABLE', on: db, why: 'create the target, shadows and backups' },
    { privilege: 'DROP TABLE', on: db, why: 'drop shadows and expired backups' },
    { privilege: 'TRUNCATE', on: db, why: 'empty a shadow before a rebuild' },
    { privilege: 'ALTER DELETE', on: db, why: 'REPLACE, ATTACH and DROP PARTITION' },
  ];
  if (kind !== 'aggregate') {
    needed.push(
      { privilege: 'ALTER MOVE PARTITION', on: db, why: 'move filled partitions into the live tables' },
      { privilege: 'CREATE VIEW', on: db, why: 'create the materialized view (or its copies)' },
      { privilege: 'DROP VIEW', on: db, why: 'drop view copies' },
    );
  }
  if (topology === 'cloud') {
    needed.push({
      privilege: 'SYSTEM SYNC REPLICA',
      on: db,
      why: 'bring the replica that runs a partition ALTER up to date',
    });
  } else if (topology === 'replicated-cluster') {
    needed.push({
      privilege: 'SYSTEM SYNC REPLICA',
      on: db,
      why: 'sync every replica after a fill, before a partition ALTER and before a ledger read',
    });
    needed.push({
      privilege: 'CLUSTER',
      on: '*.*',
      why: 'ON CLUSTER statements: DDL in an Atomic database, the syncs of every replica, KILL QUERY',
    });
  }
  return needed;
}

/** One `GRANT`/`REVOKE` line of `SHOW GRANTS`, its privileges by canonical name. */
interface GrantLine {
  revoke: boolean;
  privileges: string[];
  on: string;
}

/** Splits `a, SELECT(x, y), b` at its top-level commas. */
function splitPrivileges(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '(') depth++;
    else if (text[i] === ')') depth--;
    else if (text[i] === ',' && depth === 0) {
      parts.push(text.slice(start, i).trim());
      start = i + 1;
    }
  }
  parts.push(text.slice(start).trim());
  return parts.filter((p) => p !== '');
}

/** Parses `GRANT p1, p2 ON db.t TO u [WITH GRANT OPTION]` and `REVOKE … ON … FROM u`; role grants are skipped. */
export function parseGrantLines(lines: string[]): GrantLine[] {
  const parsed: GrantLine[] = [];
  for (const line of lines) {
    const m = /^(GRANT|REVOKE)\s+(.+?)\s+ON\s+(\S+)\s+(TO|FROM)\s/i.exec(line.trim());
    if (!m) continue;
    const on = m[3].replace(/`/g, '');
    // A column-level grant (`SELECT(a, b)`) does not cover the whole table: it is kept under its own name.
    parsed.push({ revoke: m[1].toUpperCase() === 'REVOKE', privileges: splitPrivileges(m[2]), on });
  }
  return parsed;
}

/** Whether a grant's object (`*.*`, `db.*`, `db.t`) covers `on`. */
function covers(pattern: string, on: string): boolean {
  if (pattern === '*.*' || pattern === on) return true;
  const [db, table] = pattern.split('.');
  return table === '*' && on.startsWith(`${db}.`);
}

/**
 * The needed grants that `lines` (the user's `SHOW GRANTS`) do not give. A privilege is given by itself, an
 * alias, or any group above it (`ALTER` gives `ALTER DELETE`; `ALL` gives everything) on an object covering the
 * needed one; a partial revoke of it on a covering object takes it away again.
 */
export function missingGrants(
  needed: NeededGrant[],
  lines: string[],
  privileges: { privilege: string; aliases: string[]; parent_group: string | null }[],
): NeededGrant[] {
  const canonical = new Map<string, string>();
  const parent = new Map<string, string>();
  for (const p of privileges) {
    canonical.set(p.privilege, p.privilege);
    for (const a of p.aliases) canonical.set(a, p.privilege);
    if (p.parent_group) parent.set(p.privilege, p.parent_group);
  }
  const groupsOf = (privilege: string): Set<string> => {
    const chain = new Set<string>(['ALL']);
    for (let p: string | undefined = privilege; p !== undefined && !chain.has(p); p = parent.get(p)) chain.add(p);
    return chain;
  };
  const grants = parseGrantLines(lines).map((g) => ({
    ...g,
    privileges: g.privileges.map((p) => canonical.get(p.toUpperCase()) ?? canonical.get(p) ?? p.toUpperCase()),
  }));
  const given = (n: NeededGrant, revoke: boolean) => {
    const groups = groupsOf(n.privilege);
    return grants.some((g) => g.revoke === revoke && covers(g.on, n.on) && g.privileges.some((p) => groups.has(p)));
  };
  return needed.filter((n) => !given(n, false) || given(n, true));
}

/** The least-privilege `GRANT` statements for `missing`, one per object, in the order first needed. */
export function grantStatements(missing: NeededGrant[], user: string): string[] {
  const byObject = new Map<string, string[]>();
  for (const m of missing) {
    const list = byObject.get(m.on) ?? [];
    if (!list.includes(m.privilege)) list.push(m.privilege);
    byObject.set(m.on, list);
  }
  return [...byObject].map(([on, privileges]) => `GRANT ${privileges.join(', ')} ON ${on} TO ${user}`);
}
