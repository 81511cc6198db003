import { randomUUID } from 'node:crypto';
import type { QuerySettings } from '../../clickhouse/clickhouse';
import type { Statement } from '../../clickhouse/statement';
import { selectClusterLoad } from '../../sql/engine/cluster-load';
import { createProbeTable, insertProbeRow, PROBE_PARTITION_ID } from '../../sql/service/doctor-probe';
import { selectCurrentDatabase } from '../../sql/engine/introspection';
import { movePartitionTo } from '../../sql/view/view';
import {
  attachPartitionFrom,
  createTableLike,
  dropPartition,
  dropTableIfExists,
  replacePartition,
  selectActivePartitionRows,
  truncateTable,
} from '../../sql/engine/partition-ops';
import type { ActivityDeps } from '../engine/deps';
import { detectServerProfile } from '../engine/server-profile';
import { refuseUnsupportedServer } from '../engine/server-refusal';
import { tableResolver } from '../engine/table-resolver';
import { selectVersion } from '../../sql/engine/server-profile';
import { selectCurrentUser, selectPrivileges, showGrants } from '../../sql/service/grants';
import type { Safety } from '../../shared/job-spec';
import type { Topology } from '../../shared/server-profile';
import { serverProfileLine } from '../../shared/server-profile-line';
import { grantStatements, missingGrants, neededGrants } from './job-grants';
import { qualifiedName, type TableRef } from '../../shared/table-ref';

/** One line of `ch-backfill doctor`. */
export interface DoctorCheck {
  name: string;
  ok: boolean;
  detail: string;
  /** What to run to fix a failed check (e.g. the missing `GRANT` statements). */
  fix?: string[];
}

/** The job `doctor --job` checks against the server: its kind and tables, as its file names them. */
export interface DoctorJob {
  kind: 'aggregate' | 'view' | 'import';
  /** The source table; absent for an import from files (`s3`, `url`, `file`), which reads no table. */
  source?: string;
  target: string;
  safety: Safety;
}

export interface ClickHouseDoctorInput {
  /** Where backfills will write (their shadows live next to the target); default: the connection's database. */
  database?: string;
  /** The job's `insertSettings`, sent with the probe's INSERT as the backfill sends them with its own. */
  insertSettings?: QuerySettings;
  /** With `--job`: the server's profile, the grants the job needs and a copy of its target, checked for real. */
  job?: DoctorJob;
}

/** ClickHouse's reason on one line (its messages may span several, or end in blanks). */
const message = (err: unknown) => (err instanceof Error ? err.message : String(err)).replace(/\s+/g, ' ').trim();

/**
 * ClickHouse as the worker sees it (in embedded mode only the worker may open the data directory): reachable, its
 * version, and every kind of statement a backfill runs, each tried for real on a scratch table and its shadow in
 * the target database: CREATE TABLE, CREATE TABLE … AS, INSERT … SELECT with the job's settings, ALTER TABLE …
 * REPLACE / ATTACH … FROM / MOVE … TO TABLE / DROP PARTITION, TRUNCATE, the system tables the plan and the load
 * check read, and DROP TABLE. A missing privilege or a settings constraint fails its line with ClickHouse's reason.
 * With a job: first the server's profile, whether the plan would refuse it, the grants the job needs (with the
 * `GRANT` statements for what is missing) and a copy of the job's target.
 */
export function clickHouseDoctor({ clickhouse: ch }: ActivityDeps) {
  /**
   * The checks of `doctor --job`: the server's profile (and whether the plan would refuse it), the grants the job
   * needs on its real objects (with the `GRANT` statements for what is missing), and `CREATE TABLE <scratch> AS
   * <target>` in the target's database, dropped at once.
   */
  const jobChecks = async (job: DoctorJob, scratchName: string): Promise<DoctorCheck[]> => {
    const resolve = await tableResolver(ch);
    const source = job.source === undefined ? undefined : resolve(job.source);
    const target = resolve(job.target);
    const profile = await detectServerProfile(ch, source ? [source, target] : [target], {
      target,
      cluster: 'cluster' in job && typeof job.cluster === 'string' ? job.cluster : undefined,
    });
    const checks: DoctorCheck[] = [{ name: 'server', ok: true, detail: serverProfileLine(profile) }];
    try {
      refuseUnsupportedServer(profile, target, job.safety, job.kind === 'aggregate' ? 'replace' : 'append');
      checks.push({ name: 'server supported', ok: true, detail: `the plan writes on this ${profile.topology} server` });
    } catch (err) {
      checks.push({ name: 'server supported', ok: false, detail: message(err) });
    }
    checks.push(await grantsCheck(job, source, target, profile.topology));
    const scratch: TableRef = { database: target.database, name: scratchName };
    const like = `CREATE TABLE … AS ${qualifiedName(target)} in ${target.database}`;
    if (profile.tableEngines[qualifiedName(target)] === undefined) {
      checks.push({ name: like, ok: true, detail: 'the target does not exist yet: the plan creates it' });
      return checks;
    }
    try {
      await ch.exec(createTableLike(scratch, target));
      checks.push({ name: like, ok: true, detail: 'allowed (the shadows and backups are made so)' });
    } catch (err) {
      checks.push({ name: like, ok: false, detail: message(err) });
    } finally {
      await ch.exec(dropTableIfExists(scratch)).catch(() => undefined);
    }
    return checks;
  };

  const grantsCheck = async (
    job: DoctorJob,
    source: TableRef | undefined,
    target: TableRef,
    topology: Topology,
  ): Promise<DoctorCheck> => {
    const name = 'grants the job needs';
    if (ch.embedded) return { name, ok: true, detail: 'embedded engine: no users, every statement is allowed' };
    try {
      const [{ user }] = await ch.rows(selectCurrentUser());
      const rows = await ch.rows(showGrants(true)).catch(() => ch.rows(showGrants(false)));
      const lines = rows.map((row) => String(Object.values(row)[0]));
      const needed = neededGrants(job.kind, source, target, topology);
      const missing = missingGrants(needed, lines, await ch.rows(selectPrivileges()));
      if (missing.length === 0) return { name, ok: true, detail: `${user} holds all ${needed.length}` };
      return {
        name,
        ok: false,
        detail: `${user} lacks ${missing.map((m) => `${m.privilege} on ${m.on} (${m.why})`).join('; ')}`,
        fix: grantStatements(missing, user),
      };
    } catch (err) {
      return { name, ok: false, detail: `could not read the grants: ${message(err)}` };
    }
  };

  return {
    /**
     * Runs the checks in order and stops at the first failure (the later ones need its table).
     * Durability: the scratch tables have fresh random names and are dropped before returning, whatever happened;
     * run it again freely (the workflow does not retry it: a diagnosis reports, it does not insist).
     */
    async checkClickHouse(input: ClickHouseDoctorInput): Promise<DoctorCheck[]> {
      const checks: DoctorCheck[] = [];
      const check = async (name: string, run: () => Promise<string>): Promise<boolean> => {
        try {
          checks.push({ name, ok: true, detail: await run() });
          return true;
        } catch (err) {
          checks.push({ name, ok: false, detail: message(err) });
          return false;
        }
      };
      const exec = (statement: Statement, settings?: QuerySettings) => async () => {
        await ch.exec(statement, { settings });
        return 'allowed';
      };

      let database = input.database;
      const reachable = await check('ClickHouse reachable', async () => {
        const [{ version }] = await ch.rows(selectVersion());
        database ??= (await ch.rows(selectCurrentDatabase()))[0].database;
        return `version ${version} (${ch.embedded ? 'embedded chDB in the worker' : 'server'})`;
      });
      if (!reachable || database === undefined) return checks;

      const name = `_ch_backfill_doctor_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
      if (input.job) {
        await jobChecks(input.job, `${name}_like`).then(
          (found) => checks.push(...found),
          (err: unknown) => checks.push({ name: 'server', ok: false, detail: message(err) }),
        );
      }
      const table: TableRef = { database, name };
      const shadow: TableRef = { database, name: `${name}_v2` };
      const where = `in ${database}`;
      try {
        const steps: [string, () => Promise<string>][] = [
          [`CREATE TABLE ${where}`, exec(createProbeTable(table))],
          [`CREATE TABLE … AS (shadow) ${where}`, exec(createTableLike(shadow, table))],
          [
            `INSERT … SELECT${input.insertSettings ? " with the job's insertSettings" : ''}`,
            exec(insertProbeRow(shadow), input.insertSettings),
          ],
          ['ALTER TABLE … REPLACE PARTITION … FROM', exec(replacePartition(table, shadow, PROBE_PARTITION_ID))],
          ['ALTER TABLE … ATTACH PARTITION … FROM', exec(attachPartitionFrom(shadow, table, PROBE_PARTITION_ID))],
          ['ALTER TABLE … MOVE PARTITION … TO TABLE', exec(movePartitionTo(shadow, table, PROBE_PARTITION_ID))],
          ['ALTER TABLE … DROP PARTITION', exec(dropPartition(table, PROBE_PARTITION_ID))],
          ['TRUNCATE TABLE', exec(truncateTable(shadow))],
          [
            'SELECT on system.parts, processes, merges, mutations, metrics',
            async () => {
              await ch.rows(selectClusterLoad(table, shadow));
              await ch.rows(selectActivePartitionRows(table, PROBE_PARTITION_ID));
              return 'allowed';
            },
          ],
        ];
        for (const [stepName, run] of steps) if (!(await check(stepName, run))) break;
      } finally {
        await check(`DROP TABLE (scratch ${qualifiedName(table)} and its shadow)`, async () => {
          await ch.exec(dropTableIfExists(shadow));
          await ch.exec(dropTableIfExists(table));
          return 'allowed';
        });
      }
      return checks;
    },
  };
}
