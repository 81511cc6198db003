import type { ServerProfile } from '../../src/shared/server-profile';
import type { RoutedStatement } from './sharded-cluster';

/*
 * The rules every job's statements keep on a sharded cluster, as the statement-level tests of each kind check them
 * (test/unit/sharded-topology, sharded-view, sharded-import): each returns the rule a statement breaks, in words.
 */

/** `<db>.<name>` of a statement's `{key_db}`/`{key}` parameters. */
export const tableOf = (s: RoutedStatement, key: string): string =>
  `${String(s.params[`${key}_db`])}.${String(s.params[key])}`;

/** A CREATE or DROP of a table or view: DDL, which must reach every replica. */
export const isDdl = (q: string): boolean => /^(CREATE|DROP) (TABLE|VIEW|MATERIALIZED VIEW) /.test(q);

/** A statement that writes rows or parts. */
export const isWrite = (q: string): boolean => /^(INSERT INTO|ALTER TABLE|TRUNCATE TABLE)/.test(q);

/**
 * The DDL rules statement `i` breaks: a CTAS; `ON CLUSTER` inside a Replicated database, or DDL without it in an
 * Atomic one; DDL not read per host (every host's status, `null_status_on_timeout`).
 */
export function ddlViolations(s: RoutedStatement, i: number, server: ServerProfile): string[] {
  const sharding = server.sharding!;
  const found: string[] = [];
  if (/^CREATE TABLE/.test(s.query) && /\bSELECT\b/i.test(s.query)) found.push(`${i}: CREATE … AS SELECT`);
  const onCluster = / ON CLUSTER /.test(s.query) && !/^(SYSTEM SYNC REPLICA|KILL QUERY)/.test(s.query);
  if (sharding.databaseEngine === 'Replicated' && onCluster) found.push(`${i}: ON CLUSTER in a Replicated database`);
  if (sharding.databaseEngine === 'Atomic' && isDdl(s.query) && !onCluster) found.push(`${i}: DDL without ON CLUSTER`);
  if (isDdl(s.query) && (s.via !== 'rows' || s.settings?.distributed_ddl_output_mode !== 'null_status_on_timeout'))
    found.push(`${i}: DDL not read per host`);
  return found;
}

/**
 * Whether `table` (`db.name`) was synced on the client of statement `i` since the last write there before it (the
 * replica that runs `i` then holds every part); `isLastWrite` says which earlier statements count as writes.
 */
export function syncedSinceLastWrite(
  sent: RoutedStatement[],
  i: number,
  table: string,
  isLastWrite: (s: RoutedStatement) => boolean = (x) => x.via === 'exec' && isWrite(x.query),
): boolean {
  const [d, t] = table.split('.');
  const sync = `SYSTEM SYNC REPLICA \`${d}\`.\`${t}\` LIGHTWEIGHT`;
  const on = sent[i].on;
  const lastWrite = sent
    .slice(0, i)
    .map((x, j) => (x.on === on && isLastWrite(x) ? j : -1))
    .reduce((a, b) => Math.max(a, b), -1);
  return sent.slice(lastWrite + 1, i).some((x) => x.query === sync && x.on === on);
}

/** Whether `table` was read on every replica of shard `shard` (`clusterAllReplicas`, its hosts) after statement `i`. */
export function checkedOnEveryReplica(
  sent: RoutedStatement[],
  i: number,
  server: ServerProfile,
  shard: number,
  table: string,
): boolean {
  const sharding = server.sharding!;
  const hosts = sharding.shards.find((s) => s.num === shard)!.hosts;
  const [d, t] = table.split('.');
  return sent
    .slice(i + 1)
    .some(
      (x) =>
        x.query.includes(`clusterAllReplicas('${sharding.name}', \`${d}\`.\`${t}\`)`) &&
        JSON.stringify(x.params.hosts) === JSON.stringify(hosts),
    );
}
