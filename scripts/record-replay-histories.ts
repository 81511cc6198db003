/**
 * Records the histories replayed by test/workflows/replay.test.ts: real runs of every workflow we ship, on a
 * local dev server and a scratch embedded engine, written to test/replay/histories/<scenario>.json.
 *
 * Run with `npm run record-histories` after a deliberate, replay-compatible change to workflow code whose new
 * histories the fixtures should also cover. Never re-record to make a failing replay test pass: a failure means
 * running workflows would break on the new code. Guard the change with `patched()` instead (see CONTRIBUTING.md,
 * "Changing workflow code", and the patch register in docs/architecture.md).
 *
 * `npm run record-histories -- <scenario> …` records only the scenarios named (and runs, without writing, the
 * ones they need), leaving every other recording as it is: a new workflow gets its histories without the old
 * ones being recorded again.
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import {
  WithStartWorkflowOperation,
  type Client,
  type WorkflowHandle,
  type WorkflowHandleWithFirstExecutionRunId,
} from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode } from '@temporalio/worker';
import { parse } from 'yaml';
import { openEmbeddedClickHouse } from '../src/clickhouse/connect';
import type { BackfillSummary } from '../src/shared/backfill-results';
import { jobSpecSchema, type ImportJobInput, type JobSpecInput, type ViewJobInput } from '../src/shared/job-spec';
import { confirmRestateUpdate, confirmSignal, pauseSignal, progressQuery, resumeSignal } from '../src/shared/messages';
import { createDemoEventsTable, insertDemoEvents } from '../examples/demo/sql/demo-events';
import { createPypiTable, createPypiTableWithViews, insertPypiRows } from '../examples/demo/sql/pypi-demo';
import { BACKFILL_SEARCH_ATTRIBUTE_ARGS } from '../src/temporal/backfill-search-attributes';
import { findTemporalCli } from '../src/temporal/temporal-cli-path';
import { createBackfillWorker } from '../src/worker/create-backfill-worker';
import { qualifiedName as qualified, type TableRef } from '../src/shared/table-ref';
import {
  ASK_UPDATE,
  SERVICE_WORKFLOW_TYPE,
  serviceWorkflowId,
  type ServiceQuestion,
} from '../src/shared/service-workflow';

const run = promisify(execFile);
const root = path.resolve(__dirname, '..');
const out = path.join(root, 'test', 'replay', 'histories');
const quiet = { info: () => undefined, warn: () => undefined };

/**
 * Every run of a workflow (following continue-as-new) and, recursively, of the children it started, each in the
 * JSON form `temporal workflow show --output json` prints (the form replay reads).
 */
async function histories(
  client: Client,
  address: string,
  workflowId: string,
  runId?: string,
): Promise<{ workflowId: string; history: unknown }[]> {
  const history = await client.workflow.getHandle(workflowId, runId).fetchHistory();
  const args = ['workflow', 'show', '--output', 'json', '--address', address, '--workflow-id', workflowId];
  const { stdout } = await run(findTemporalCli(), runId ? [...args, '--run-id', runId] : args, {
    maxBuffer: 64 * 1024 * 1024,
  });
  const collected = [{ workflowId, history: JSON.parse(stdout) as unknown }];
  for (const e of history.events ?? []) {
    const child = e.childWorkflowExecutionStartedEventAttributes?.workflowExecution;
    if (child?.workflowId && child.runId) {
      collected.push(...(await histories(client, address, child.workflowId, child.runId)));
    }
    const next = e.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId;
    if (next) collected.push(...(await histories(client, address, workflowId, next)));
  }
  return collected;
}

async function until(handle: WorkflowHandle, ok: (p: Awaited<ReturnType<typeof query>>) => boolean): Promise<void> {
  for (let i = 0; i < 300; i++) {
    const p = await query(handle).catch(() => undefined);
    if (p && ok(p)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${handle.workflowId}: the expected progress never came`);
}
const query = (handle: WorkflowHandle) => handle.query(progressQuery);

/** A job file of examples/, parsed, for the scenarios to point at their own tables. */
const example = <T>(file: string): T => parse(readFileSync(path.join(root, 'examples', file), 'utf8')) as T;

/** The scenarios a scenario reads the outcome of: run before it (not written) when only it is asked for. */
const needs: Record<string, string[]> = { rollback: ['backfill-paused'] };

async function main(): Promise<void> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'record-histories-'));
  const env = await TestWorkflowEnvironment.createLocal({
    server: {
      executable: { type: 'existing-path', path: findTemporalCli() },
      extraArgs: [
        ...BACKFILL_SEARCH_ATTRIBUTE_ARGS,
        '--dynamic-config-value',
        'limit.historyCount.suggestContinueAsNew=150',
      ],
    },
  });
  const ch = openEmbeddedClickHouse(dataDir);
  try {
    const db = 'replay';
    await ch.exec({ query: 'CREATE DATABASE IF NOT EXISTS {db:Identifier}', params: { db } });
    await ch.exec(createDemoEventsTable({ database: db, name: 'events' }));
    await ch.exec(insertDemoEvents({ database: db, name: 'events' }, '2024-01-01', 3, 30_000));
    const events = example<JobSpecInput>('events-daily.yaml');
    const job = jobSpecSchema.parse({
      ...events,
      source: { ...events.source, table: `${db}.events` },
      target: { table: `${db}.events_daily` },
    });
    // The view jobs read pypi: 20 days, one daily partition each, enough for a continue-as-new.
    const t = (name: string): TableRef => ({ database: db, name });
    await ch.exec(createPypiTable(t('pypi')));
    await ch.exec(insertPypiRows(t('pypi'), 3_000, '2024-01-01 00:00:00', '2024-01-21 00:00:00'));
    // The import loads three months of history into `imported` (live rows from 2024-03-20 on) and both its views.
    const imported = { perProject: t('imported_downloads'), perHour: t('imported_per_hour') };
    for (const statement of createPypiTableWithViews(t('imported'), imported)) await ch.exec(statement);
    await ch.exec(insertPypiRows(t('imported'), 500, '2024-03-20 00:00:00', '2024-03-25 00:00:00'));
    await ch.exec(createPypiTable(t('history')));
    await ch.exec(insertPypiRows(t('history'), 6_000, '2024-01-01 00:00:00', '2024-03-25 00:00:00'));
    const viewJob = (file: string, overrides: Partial<ViewJobInput>): ViewJobInput => {
      const view = example<ViewJobInput>(file);
      return { ...view, source: { ...view.source, table: `${db}.pypi` }, fill: 'ranged', ...overrides };
    };

    const taskQueue = `record-${randomUUID()}`;
    const worker = await createBackfillWorker({
      connection: env.nativeConnection,
      namespace: 'default',
      taskQueue,
      clickhouse: ch,
      log: quiet,
      workflowBundle: await bundleWorkflowCode({ workflowsPath: require.resolve('../src/workflows') }),
    });
    const { client } = env;
    const start = (type: string, id: string, input: unknown) =>
      client.workflow.start(type, { taskQueue, workflowId: id, args: [input] });

    const scenarios: Record<string, () => Promise<WorkflowHandleWithFirstExecutionRunId>> = {
      'backfill-paused': async () => {
        const handle = await start('backfillWorkflow', 'replay-paused', { job, from: '2024-01-01', to: '2024-03-31' });
        await handle.signal(pauseSignal, { reason: 'recorded pause' });
        await until(handle, (p) => p.pause?.manual === 'recorded pause');
        await handle.signal(resumeSignal);
        await handle.result();
        return handle;
      },
      'backfill-continued-as-new': async () => {
        const daily = { ...job, partitionBy: 'day' as const, target: { table: `${db}.events_by_day` } };
        const handle = await start('backfillWorkflow', 'replay-continued', {
          job: daily,
          from: '2024-01-01',
          to: '2024-01-20',
        });
        const summary = (await handle.result()) as BackfillSummary;
        if ((await query(handle)).continuedAsNew === 0) throw new Error(`no continue-as-new in ${summary.workflowId}`);
        return handle;
      },
      'backfill-cancelled': async () => {
        const handle = await start('backfillWorkflow', 'replay-cancelled', {
          job,
          from: '2024-01-01',
          to: '2024-03-31',
        });
        await until(handle, (p) => p.done >= 1);
        await handle.cancel();
        await handle.result().catch(() => undefined);
        return handle;
      },
      'daily-run': async () => {
        const handle = await start('dailyIncrementalWorkflow', 'replay-daily', {
          job,
          date: '2024-02-10',
          timezone: 'UTC',
        });
        await handle.result();
        return handle;
      },
      rollback: async () => {
        const { target, backup, partitions } = await query(client.workflow.getHandle('replay-paused'));
        const swapped = partitions.map((p) => ({ id: p.id, rows: p.result?.backupRows ?? 0 }));
        const input = { backfill: 'replay-paused', job, target, backup, partitions: swapped };
        const handle = await start('rollbackWorkflow', 'replay-rollback', input);
        await handle.result();
        return handle;
      },
      'view-backfill': async () => {
        const view = viewJob('pypi-downloads-per-day.yaml', {
          target: { table: `${db}.pypi_daily`, engine: 'SummingMergeTree', partitionBy: 'day' },
          view: { name: 'pypi_daily_mv' },
          cutoffMarginSeconds: 4,
          latenessSeconds: 1,
        });
        const handle = await start('viewBackfillWorkflow', 'replay-view', { job: view });
        await until(handle, (p) => p.done >= 1);
        await handle.signal(pauseSignal, { reason: 'recorded pause' });
        await until(handle, (p) => p.pause?.manual === 'recorded pause');
        await handle.signal(resumeSignal);
        await handle.result();
        if ((await query(handle)).continuedAsNew === 0) throw new Error('no continue-as-new in replay-view');
        return handle;
      },
      'view-snapshot': async () => {
        const view = viewJob('pypi-downloads-per-day-snapshot.yaml', {
          target: { table: `${db}.pypi_hourly`, engine: 'SummingMergeTree', partitionBy: 'month' },
          view: { name: 'pypi_hourly_mv' },
        });
        const handle = await start('viewSnapshotWorkflow', 'replay-snapshot', { job: view });
        await until(handle, (p) => p.snapshot?.state === 'awaiting-confirm');
        await handle.signal(confirmSignal);
        await handle.result();
        return handle;
      },
      import: async () => {
        const imported = example<ImportJobInput>('pypi-import.yaml');
        const handle = await start('importWorkflow', 'replay-import', {
          job: {
            ...imported,
            target: { ...imported.target, table: `${db}.imported` },
            source: { table: `${db}.history` },
          },
        });
        await handle.result();
        return handle;
      },
      'view-restate': async () => {
        // A view over pypi whose history was written by a wrong definition (wheels only), then fixed: five days
        // restated with the fixed stored query.
        const select = (filter: string) =>
          `SELECT toDate(timestamp) AS day, project, count() AS downloads FROM ${db}.pypi ${filter} GROUP BY day, project`;
        const sql = [
          `CREATE TABLE ${db}.pypi_restated (day Date, project String, downloads UInt64) ENGINE = MergeTree PARTITION BY toYYYYMMDD(day) ORDER BY (day, project)`,
          `INSERT INTO ${db}.pypi_restated ${select("WHERE type = 'bdist_wheel'")}`,
          `CREATE MATERIALIZED VIEW ${db}.pypi_restated_mv TO ${db}.pypi_restated AS ${select('')}`,
        ];
        for (const query of sql) await ch.exec({ query, params: {} });
        const restate = {
          kind: 'view-restate',
          view: `${db}.pypi_restated_mv`,
          writesEndBefore: '2024-02-01T00:00:00Z',
        };
        const handle = await start('viewRestateWorkflow', 'replay-view-restate', {
          job: restate,
          from: '2024-01-01',
          to: '2024-01-05',
        });
        await handle.result();
        return handle;
      },
      'view-restate-chain': async () => {
        // A chain (pypi → chain_daily_mv → chain_daily → chain_totals_mv → chain_totals) whose first level was
        // written by a wrong definition (wheels only), then fixed: twenty days restated at both levels, enough
        // for a continue-as-new (the backups' retention is kept by the continued run).
        const select = (filter: string) =>
          `SELECT toDate(timestamp) AS day, project, count() AS downloads FROM ${db}.pypi ${filter} GROUP BY day, project`;
        const totals = `SELECT day, sum(downloads) AS downloads FROM ${db}.chain_daily GROUP BY day`;
        const sql = [
          `CREATE TABLE ${db}.chain_daily (day Date, project String, downloads UInt64) ENGINE = MergeTree PARTITION BY toYYYYMMDD(day) ORDER BY (day, project)`,
          `CREATE TABLE ${db}.chain_totals (day Date, downloads UInt64) ENGINE = SummingMergeTree PARTITION BY toYYYYMMDD(day) ORDER BY day`,
          `CREATE MATERIALIZED VIEW ${db}.chain_totals_mv TO ${db}.chain_totals AS ${totals}`,
          `INSERT INTO ${db}.chain_daily ${select("WHERE type = 'bdist_wheel'")}`,
          `CREATE MATERIALIZED VIEW ${db}.chain_daily_mv TO ${db}.chain_daily AS ${select('')}`,
        ];
        for (const query of sql) await ch.exec({ query, params: {} });
        const handle = await start('viewRestateWorkflow', 'replay-view-restate-chain', {
          job: { kind: 'view-restate', view: `${db}.chain_daily_mv`, writesEndBefore: '2024-02-01T00:00:00Z' },
          from: '2024-01-01',
          to: '2024-01-20',
        });
        await handle.result();
        if ((await query(handle)).continuedAsNew === 0)
          throw new Error('no continue-as-new in replay-view-restate-chain');
        return handle;
      },
      'view-restate-confirm': async () => {
        // Days the live view still writes into (no writesEndBefore): the earlier ones restated first, then the
        // run waits for the operator's confirm and restates the last two.
        const select = (filter: string) =>
          `SELECT toDate(timestamp) AS day, project, count() AS downloads FROM ${db}.pypi ${filter} GROUP BY day, project`;
        const sql = [
          `CREATE TABLE ${db}.pypi_confirmed (day Date, project String, downloads UInt64) ENGINE = MergeTree PARTITION BY toYYYYMMDD(day) ORDER BY (day, project)`,
          `INSERT INTO ${db}.pypi_confirmed ${select("WHERE type = 'bdist_wheel'")}`,
          `CREATE MATERIALIZED VIEW ${db}.pypi_confirmed_mv TO ${db}.pypi_confirmed AS ${select('')}`,
        ];
        for (const query of sql) await ch.exec({ query, params: {} });
        const handle = await start('viewRestateWorkflow', 'replay-view-restate-confirm', {
          job: {
            kind: 'view-restate',
            view: `${db}.pypi_confirmed_mv`,
            writesEndBefore: '2024-01-03T00:00:00Z',
            ingestion: 'paused-by-operator',
          },
          from: '2024-01-01',
          to: '2024-01-04',
        });
        await until(handle, (p) => p.ingestion?.state === 'awaiting-confirm');
        await handle.executeUpdate(confirmRestateUpdate);
        await handle.result();
        return handle;
      },
      'import-files': async () => {
        // The same history as eight Parquet files the engine writes, loaded one file a batch (staged lists).
        const into = t('files_imported');
        const views = { perProject: t('files_imported_downloads'), perHour: t('files_imported_per_hour') };
        for (const statement of createPypiTableWithViews(into, views)) await ch.exec(statement);
        await ch.exec(insertPypiRows(into, 500, '2024-03-20 00:00:00', '2024-03-25 00:00:00'));
        const dir = path.join(dataDir, 'history-files');
        mkdirSync(dir, { recursive: true });
        for (let i = 0; i < 8; i++) {
          await ch.exec({
            query:
              "INSERT INTO FUNCTION file({p:String}, 'Parquet') SELECT * FROM {db:Identifier}.history " +
              'WHERE cityHash64(url, timestamp) % 8 = {i:UInt8}',
            params: { p: path.join(dir, `part-${i}.parquet`), db, i },
          });
        }
        const imported = example<ImportJobInput>('pypi-import.yaml');
        const handle = await start('importWorkflow', 'replay-import-files', {
          job: {
            ...imported,
            target: { ...imported.target, table: qualified(into) },
            source: { file: path.join(dir, '*.parquet'), format: 'Parquet' },
            fileBatches: { maxFiles: 1 },
            parallelism: 2,
          },
        });
        await handle.result();
        return handle;
      },
      'service-questions': async () => {
        // Questions as the CLI asks them (update-with-start), a refused one among them, until the service has
        // continued as new (the server here suggests it after 150 events) and answered once more.
        const id = serviceWorkflowId(taskQueue);
        const ask = (question: ServiceQuestion, input: unknown) =>
          client.workflow
            .executeUpdateWithStart(ASK_UPDATE, {
              args: [{ question, args: [input] }],
              startWorkflowOperation: new WithStartWorkflowOperation(SERVICE_WORKFLOW_TYPE, {
                workflowId: id,
                taskQueue,
                workflowIdConflictPolicy: 'USE_EXISTING',
              }),
            })
            .then(
              () => undefined,
              (err: unknown) => err,
            );
        if (await ask('describeBackfillWorkflow', { job, from: '2024-01-01', to: '2024-03-31' })) {
          throw new Error('the plan was refused');
        }
        const firstExecutionRunId = (await client.workflow.getHandle(id).describe()).runId;
        const bad = { ...job, metrics: { clicks: 'sum(clicks)' } };
        if (!(await ask('describeBackfillWorkflow', { job: bad, from: '2024-01-01', to: '2024-01-31' }))) {
          throw new Error('a plan naming a missing column was not refused');
        }
        for (let i = 0; i < 60; i++) {
          await ask('ledgerHistoryWorkflow', { target: `${db}.events_daily`, limit: 10 });
          if ((await client.workflow.getHandle(id).describe()).runId !== firstExecutionRunId) break;
        }
        await ask('ledgerHistoryWorkflow', { target: `${db}.events_daily`, limit: 10 });
        const handle = client.workflow.getHandle(id);
        if ((await handle.describe()).runId === firstExecutionRunId) throw new Error('the service never continued');
        return Object.assign(handle, { firstExecutionRunId });
      },
    };

    const asked = process.argv.slice(2);
    const unknown = asked.filter((name) => !(name in scenarios));
    if (unknown.length > 0) {
      throw new Error(`no scenario ${unknown.join(', ')}; the scenarios: ${Object.keys(scenarios).join(', ')}`);
    }
    const chosen = new Set(asked.length > 0 ? asked : Object.keys(scenarios));
    const needed = new Set([...chosen].flatMap((name) => needs[name] ?? []));
    // All of them: the directory holds exactly the scenarios (a removed one leaves no stale recording).
    if (asked.length === 0) rmSync(out, { recursive: true, force: true });
    mkdirSync(out, { recursive: true });
    await worker.runUntil(async () => {
      for (const [name, run] of Object.entries(scenarios)) {
        if (!chosen.has(name) && !needed.has(name)) continue;
        const handle = await run();
        if (!chosen.has(name)) {
          console.log(`ran ${name} (needed by what is recorded; its recording left as it is)`);
          continue;
        }
        const recorded = await histories(client, env.address, handle.workflowId, handle.firstExecutionRunId);
        writeFileSync(path.join(out, `${name}.json`), `${JSON.stringify(recorded)}\n`);
        console.log(`recorded ${name}: ${recorded.length} histories`);
      }
    });
  } finally {
    await ch.close();
    await env.teardown();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
