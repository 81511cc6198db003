import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { stringify } from 'yaml';
import { findTemporalCli } from '../../src/temporal/temporal-cli-path';
import { createBackfillWorker } from '../../src/worker/create-backfill-worker';
import { createHarness, exampleJob, workflowBundle, type Harness } from '../helpers/backfill-harness';
import { freshDatabase } from '../helpers/chdb-env';
import { runCliCaptured } from '../helpers/run-cli-captured';
import { selectVersion } from '../../src/sql/engine/server-profile';

const quiet = { info: () => undefined, warn: () => undefined };
const lines = (out: string) => out.split('\n');

describe('ch-backfill doctor', () => {
  let h: Harness;
  let bare: TestWorkflowEnvironment;
  let bareWorker: Worker;
  let bareRunning: Promise<void>;
  const bareQueue = `doctor-bare-${randomUUID()}`;

  beforeAll(async () => {
    h = await createHarness();
    // A dev server as `temporal server start-dev` comes, without our search attributes.
    bare = await TestWorkflowEnvironment.createLocal({
      server: { executable: { type: 'existing-path', path: findTemporalCli() } },
    });
    bareWorker = await createBackfillWorker({
      connection: bare.nativeConnection,
      namespace: 'default',
      taskQueue: bareQueue,
      clickhouse: h.ch,
      log: quiet,
      workflowBundle: await workflowBundle(),
    });
    bareRunning = bareWorker.run();
  });

  afterAll(async () => {
    bareWorker?.shutdown();
    await bareRunning;
    await bare?.teardown();
    await h?.close();
  });

  const scratchTables = async () =>
    h.ch.rows({
      query: "SELECT database, name FROM system.tables WHERE name LIKE '\\_ch\\_backfill\\_doctor\\_%'",
      params: {},
    });

  it('passes every check, one line each, against a dev server with the search attributes and a worker', async () => {
    const run = await h.withWorker(() =>
      runCliCaptured({ TEMPORAL_ADDRESS: h.env.address, TEMPORAL_TASK_QUEUE: h.taskQueue }, 'doctor'),
    );
    expect(run.err).toBe('');
    expect(run.code).toBe(0);
    const out = lines(run.out);
    for (const name of [
      'Temporal reachable',
      'namespace',
      'search attribute BackfillTarget',
      'search attribute BackfillPartitions',
      'search attribute BackfillRole',
      'worker',
      'ClickHouse reachable',
      'CREATE TABLE in default',
      'ALTER TABLE … REPLACE PARTITION … FROM',
      'ALTER TABLE … ATTACH PARTITION … FROM',
      'ALTER TABLE … MOVE PARTITION … TO TABLE',
      'ALTER TABLE … DROP PARTITION',
      'SELECT on system.parts, processes, merges, mutations, metrics',
    ]) {
      expect(out).toContainEqual(
        expect.stringMatching(new RegExp(`^ok    ${name.replace(/[.*+?()[\]\\]/g, '\\$&')}: `)),
      );
    }
    expect(out.filter((l) => l.startsWith('FAIL'))).toEqual([]);
    expect(out).toContainEqual(expect.stringMatching(/^ok    DROP TABLE \(scratch default\._ch_backfill_doctor_\w+/));
    expect(await scratchTables()).toEqual([]);
  });

  it('without the search attributes, fails and prints the exact commands that register them', async () => {
    const env = { TEMPORAL_ADDRESS: bare.address, TEMPORAL_TASK_QUEUE: bareQueue };
    const before = await runCliCaptured(env, 'doctor');
    expect(before.code).toBe(1);
    expect(before.err).toBe('ch-backfill: doctor: 3 check(s) failed');
    const commands = lines(before.out)
      .filter((l) => l.trim().startsWith('fix: temporal '))
      .map((l) => l.trim().slice('fix: '.length));
    expect(commands).toEqual([
      `temporal operator search-attribute create --address ${bare.address} --namespace default --name BackfillTarget --type Keyword`,
      `temporal operator search-attribute create --address ${bare.address} --namespace default --name BackfillPartitions --type KeywordList`,
      `temporal operator search-attribute create --address ${bare.address} --namespace default --name BackfillRole --type Keyword`,
    ]);
    // The rest of the checks ran and passed.
    expect(lines(before.out)).toContainEqual(expect.stringMatching(/^ok    ALTER TABLE … REPLACE PARTITION/));

    for (const command of commands) execFileSync(findTemporalCli(), command.split(' ').slice(1), { stdio: 'ignore' });
    const after = await runCliCaptured(env, 'doctor');
    expect(lines(after.out).filter((l) => l.startsWith('FAIL'))).toEqual([]);
    expect(after.code).toBe(0);
  });

  it('without a worker on the task queue, says so within the timeout and leaves no check running', async () => {
    const taskQueue = `doctor-nobody-${randomUUID()}`;
    const started = Date.now();
    const run = await runCliCaptured(
      { TEMPORAL_ADDRESS: h.env.address, TEMPORAL_TASK_QUEUE: taskQueue },
      'doctor',
      '--timeout',
      '2',
    );
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(run.code).toBe(1);
    expect(lines(run.out)).toContainEqual(
      `FAIL  worker: no worker on task queue ${taskQueue} picked up a check within 2 s`,
    );
    const running = h.env.client.workflow.list({ query: `TaskQueue = '${taskQueue}' AND ExecutionStatus = 'Running'` });
    for await (const w of running) throw new Error(`left running: ${w.workflowId}`);
  });

  it("with --job, probes the job's target database and fails, with ClickHouse's reason, where it cannot create tables", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'doctor-job-'));
    const db = await freshDatabase(h.ch, 'doctor_job');
    const jobFile = (target: string) => {
      const file = path.join(dir, `${randomUUID()}.yaml`);
      writeFileSync(file, stringify(exampleJob(db, { target: { table: target } })));
      return file;
    };
    const env = { TEMPORAL_ADDRESS: h.env.address, TEMPORAL_TASK_QUEUE: h.taskQueue };
    const [good, missing] = await h.withWorker(async () => [
      await runCliCaptured(env, 'doctor', '--job', jobFile(`${db}.events_daily`)),
      await runCliCaptured(env, 'doctor', '--job', jobFile('no_such_database.events_daily')),
    ]);
    expect(good.code).toBe(0);
    expect(lines(good.out)).toContainEqual(`ok    CREATE TABLE in ${db}: allowed`);
    expect(lines(good.out)).toContainEqual(
      expect.stringMatching(/^ok    INSERT … SELECT with the job's insertSettings/),
    );
    expect(missing.code).toBe(1);
    expect(lines(missing.out)).toContainEqual(
      expect.stringMatching(/^FAIL  CREATE TABLE in no_such_database: .*no_such_database/),
    );
    expect(await scratchTables()).toEqual([]);
  });

  it("with --job, prints the server's profile, the grants and a copy of the job's existing target", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'doctor-profile-'));
    const db = await freshDatabase(h.ch, 'doctor_profile');
    await h.ch.exec({
      query: `CREATE TABLE ${db}.events_daily (day Date, n UInt64) ENGINE = SummingMergeTree PARTITION BY toYYYYMM(day) ORDER BY day`,
      params: {},
    });
    const file = path.join(dir, 'job.yaml');
    writeFileSync(file, stringify(exampleJob(db, { target: { table: `${db}.events_daily` } })));
    const run = await h.withWorker(() =>
      runCliCaptured({ TEMPORAL_ADDRESS: h.env.address, TEMPORAL_TASK_QUEUE: h.taskQueue }, 'doctor', '--job', file),
    );
    expect(run.code).toBe(0);
    const out = lines(run.out);
    const [{ version }] = await h.ch.rows(selectVersion());
    expect(out).toContainEqual(
      expect.stringMatching(
        new RegExp(
          `^ok    server: embedded, ClickHouse ${version.replace(/\./g, '\\.')}, 1 host .*${db}\\.events_daily SummingMergeTree`,
        ),
      ),
    );
    expect(out).toContainEqual('ok    server supported: the plan writes on this embedded server');
    expect(out).toContainEqual('ok    grants the job needs: embedded engine: no users, every statement is allowed');
    expect(out).toContainEqual(
      `ok    CREATE TABLE … AS ${db}.events_daily in ${db}: allowed (the shadows and backups are made so)`,
    );
    expect(await scratchTables()).toEqual([]);
  });
});
