import { MockActivityEnvironment } from '@temporalio/testing';
import type { ClickHouse, RunOptions } from '../../src/clickhouse/clickhouse';
import type { Statement } from '../../src/clickhouse/statement';
import { importPlanning } from '../../src/activities/import/plan-import';
import { viewSnapshotSteps } from '../../src/activities/snapshot/view-snapshot';
import { importJobSchema, viewJobSchema } from '../../src/shared/job-spec';
import {
  selectCloudMode,
  selectClusters,
  selectDatabaseEngines,
  selectHostName,
  selectVersion,
} from '../../src/sql/engine/server-profile';
import { selectTableInfo } from '../../src/sql/engine/introspection';
import { createPypiTable, insertPypiRows } from '../../examples/demo/sql/pypi-demo';
import { freshDatabase, openTestClickHouse } from '../helpers/chdb-env';
import { createPypiWithViews, pypiImportJob, pypiViewJob, sqlTime, tablesOf } from '../helpers/view-jobs';

/**
 * The plan's refusals of tables a job on a one-shard replicated cluster cannot write correctly, run against real
 * tables (chDB) that detection sees as a cluster: its system-table answers say `Atomic` database on cluster `main`
 * (three replicas, this server among them) and the tables named `replicated` are `Replicated…` there (in the
 * profile and in `system.tables`' engine column). No server or
 * Keeper runs here; every statement the plan sends is logged, and none may be DDL or a write.
 */
function asReplicatedCluster(ch: ClickHouse, replicated: string[]) {
  const sent: { via: 'rows' | 'exec'; query: string }[] = [];
  let probe = 0;
  const hosts = ['ch-node-1', 'ch-node-2', 'ch-node-3'];
  const answer = async (statement: Statement, options?: RunOptions): Promise<unknown[]> => {
    const { query } = statement;
    if (query === selectVersion().query) return [{ version: '26.7.2.11' }];
    if (query === selectHostName().query) return [{ host: hosts[probe++ % hosts.length] }];
    if (query === selectCloudMode().query) return [];
    if (query === selectClusters().query) return [{ name: 'main', shards: '1', replicas: '3', local: '1' }];
    if (query === selectDatabaseEngines([]).query)
      return (await ch.rows(statement, options)).map((d) => ({ ...(d as object), engine: 'Atomic' }));
    const rows = await ch.rows(statement, options);
    if (query === selectTableInfo({ database: '', name: '' }).query) {
      const named = `${String(statement.params.db)}.${String(statement.params.name)}`;
      if (!replicated.includes(named)) return rows;
      return (rows as { engine: string }[]).map((t) => ({ ...t, engine: `Replicated${t.engine}` }));
    }
    if (!/^SELECT database, name, engine, engine_full FROM system\.tables/.test(query)) return rows;
    // The tables of the job detection asks about: those named replicated are so on the cluster.
    return (rows as { database: string; name: string; engine: string; engine_full: string }[]).map((t) =>
      replicated.includes(`${t.database}.${t.name}`)
        ? {
            ...t,
            engine: `Replicated${t.engine}`,
            engine_full: t.engine_full.replace(
              t.engine,
              `Replicated${t.engine}('/clickhouse/tables/{shard}/${t.database}/${t.name}', '{replica}')`,
            ),
          }
        : t,
    );
  };
  const cluster: ClickHouse = {
    embedded: false,
    rows: async <T>(statement: Statement<T>, options?: RunOptions) => {
      sent.push({ via: 'rows', query: statement.query });
      return (await answer(statement, options)) as T[];
    },
    exec: (statement: Statement) => {
      sent.push({ via: 'exec', query: statement.query });
      return Promise.reject(new Error(`the plan ran ${statement.query}`));
    },
    close: () => Promise.resolve(),
    get control() {
      return cluster;
    },
  };
  return { ch: cluster, sent };
}

/** What a plan must not have sent: any write, DDL or sync. */
const writesIn = (sent: { via: string; query: string }[]) =>
  sent.filter((s) => s.via === 'exec' || /^\s*(CREATE|DROP|ALTER|INSERT|SYSTEM|RENAME|EXCHANGE)\b/i.test(s.query));

const quiet = { info: () => undefined, warn: () => undefined };
const env = () =>
  new MockActivityEnvironment({
    workflowExecution: { workflowId: 'wf', runId: 'run' },
    activityId: '1',
    attempt: 1,
  } as never);

describe('the plan on a replicated cluster refuses tables it cannot write there, before any DDL', () => {
  let ch: ClickHouse;
  let db: string;
  const exec = (query: string) => ch.exec({ query, params: {} });

  beforeAll(async () => {
    ch = openTestClickHouse();
    db = await freshDatabase(ch, 'cluster_refusals');
    await createPypiWithViews(ch, db);
    const now = Date.now();
    await ch.exec(insertPypiRows({ database: db, name: 'pypi' }, 50, sqlTime(now - 3_600_000), sqlTime(now)));
    const history = { database: db, name: 'pypi_history' };
    await ch.exec(createPypiTable(history));
    await ch.exec(insertPypiRows(history, 50, sqlTime(now - 40 * 86_400_000), sqlTime(now - 7_200_000)));
  }, 120_000);
  afterAll(() => ch.close());

  test('an import whose view target is a plain table: refused naming that table, nothing sent that writes', async () => {
    const before = await tablesOf(ch, db);
    // pypi and one of its view targets are replicated; pypi_downloads (fed by pypi_downloads_mv) is not.
    const cluster = asReplicatedCluster(ch, [`${db}.pypi`, `${db}.pypi_downloads_per_day`]);
    const job = importJobSchema.parse(pypiImportJob(db));
    const plan = importPlanning({ clickhouse: cluster.ch, log: quiet });
    await expect(env().run(plan.planImport, { job })).rejects.toThrow(
      new RegExp(
        `^target\\.table: ${db}\\.pypi_downloads, fed by a view of ${db}\\.pypi, is SummingMergeTree on cluster ` +
          'main: every table an import moves rows into must be a Replicated…MergeTree table there',
      ),
    );
    expect(cluster.sent.length).toBeGreaterThan(0);
    expect(writesIn(cluster.sent)).toEqual([]);
    expect(await tablesOf(ch, db)).toEqual(before);
  });

  test('the same import with every view target replicated is planned (the refusal is the plain target)', async () => {
    const cluster = asReplicatedCluster(ch, [`${db}.pypi`, `${db}.pypi_downloads_per_day`, `${db}.pypi_downloads`]);
    const job = importJobSchema.parse(pypiImportJob(db));
    const plan = importPlanning({ clickhouse: cluster.ch, log: quiet });
    const planned = (await env().run(plan.planImport, { job })) as { server?: { topology: string } };
    expect(planned.server?.topology).toBe('replicated-cluster');
    expect(writesIn(cluster.sent)).toEqual([]);
  });

  test('a snapshot whose source is a plain table: refused naming the source and its engine, nothing sent that writes', async () => {
    await exec(`CREATE TABLE ${db}.hourly (hour DateTime, project String, count UInt64)
      ENGINE = SummingMergeTree PARTITION BY toYYYYMM(hour) ORDER BY (hour, project)`);
    const before = await tablesOf(ch, db);
    // The target exists replicated on the cluster; the source pypi is a plain MergeTree.
    const cluster = asReplicatedCluster(ch, [`${db}.hourly`]);
    const job = viewJobSchema.parse(
      pypiViewJob('pypi-downloads-per-day-snapshot.yaml', db, {
        target: { table: `${db}.hourly`, engine: 'SummingMergeTree', partitionBy: 'month' },
        view: { name: 'hourly_mv' },
      }),
    );
    const steps = viewSnapshotSteps({ clickhouse: cluster.ch, log: quiet });
    await expect(env().run(steps.planViewSnapshot, { job, tag: 'w1' })).rejects.toThrow(
      new RegExp(
        `^source\\.table: ${db}\\.pypi is a MergeTree table on cluster main: a snapshot there is a replicated ` +
          "table attaching the source's partitions on every replica, so the source must be a Replicated…MergeTree",
      ),
    );
    expect(cluster.sent.length).toBeGreaterThan(0);
    expect(writesIn(cluster.sent)).toEqual([]);
    expect(await tablesOf(ch, db)).toEqual(before);
    // With the source replicated too the same job is planned: the refusal is the plain source.
    const replicatedSource = asReplicatedCluster(ch, [`${db}.hourly`, `${db}.pypi`]);
    const planned = (await env().run(
      viewSnapshotSteps({ clickhouse: replicatedSource.ch, log: quiet }).planViewSnapshot,
      {
        job,
        tag: 'w1',
      },
    )) as { server?: { topology: string } };
    expect(planned.server?.topology).toBe('replicated-cluster');
    expect(writesIn(replicatedSource.sent)).toEqual([]);
  });
});
