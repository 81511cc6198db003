import { randomUUID } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { ClickHouse } from '../../src/clickhouse/clickhouse';
import type { ViewBackfillSummary } from '../../src/shared/view-input';
import { createPypiTable, insertPypiRows } from '../../src/sql/pypi-demo';
import { workflowBundle } from '../helpers/backfill-harness';
import { CrashWorkers, crashRunDirs, withClickHouse as withDataDir } from '../helpers/crash-workers';
import { createTestTemporal } from '../helpers/temporal-env';
import { pypiViewJob } from '../helpers/view-jobs';

/*
 * A view backfill's worker killed with SIGKILL during the fill, between the fill and the move, and right after the
 * move landed (test/fixtures/crash-worker.ts); a fresh worker finishes. The target must count every source row
 * exactly once: a move is never repeated into a second copy, and a fill is never redone after a move.
 */

const dirs = crashRunDirs('view-crash');
const { runDir, bundleFile } = dirs;
const db = 'view_crash';
const taskQueue = `view-crash-${randomUUID()}`;
const workers = new CrashWorkers(dirs, taskQueue);
const withClickHouse = <T>(fn: (ch: ClickHouse) => Promise<T>): Promise<T> => withDataDir(dirs.dataDir, fn);

/** Per (hour, project): the target's summed counts and the view's query over the whole source, in one digest. */
async function digests(ch: ClickHouse, target: string, month: number) {
  const digest = async (inner: string) => {
    const [row] = await ch.rows<{ groups: string; total: string; digest: string }>({
      query: `SELECT toString(count()) AS groups, toString(sum(n)) AS total,
        toString(groupBitXor(cityHash64(hour, project, n))) AS digest FROM (${inner})`,
      params: { month },
    });
    return row;
  };
  return {
    target: await digest(
      `SELECT hour, project, sum(count) AS n FROM ${db}.${target} WHERE toYYYYMM(hour) = {month:UInt32} GROUP BY hour, project`,
    ),
    source: await digest(
      `SELECT toStartOfHour(timestamp) AS hour, project, count() AS n FROM ${db}.pypi
       WHERE toYYYYMM(timestamp) = {month:UInt32} GROUP BY hour, project`,
    ),
  };
}

async function shadows(ch: ClickHouse): Promise<string[]> {
  const rows = await ch.rows<{ name: string }>({
    query: "SELECT name FROM system.tables WHERE database = {db:String} AND name LIKE '%\\_v2\\_%' ORDER BY name",
    params: { db },
  });
  return rows.map((r) => r.name.replace(/_[0-9a-f]{8}$/, ''));
}

describe('crash recovery of a view backfill: a worker killed with SIGKILL', () => {
  let env: TestWorkflowEnvironment;

  beforeAll(async () => {
    rmSync(runDir, { recursive: true, force: true });
    mkdirSync(runDir, { recursive: true });
    writeFileSync(bundleFile, (await workflowBundle()).code);
    await withClickHouse(async (ch) => {
      await ch.exec({ query: 'CREATE DATABASE {db:Identifier}', params: { db } });
      await ch.exec(createPypiTable({ database: db, name: 'pypi' }));
      // Enough rows in January that its fill lasts longer than the 0.3 s before the kill.
      await ch.exec(
        insertPypiRows({ database: db, name: 'pypi' }, 3_000_000, '2024-01-01 00:00:00', '2024-02-01 00:00:00'),
      );
      await ch.exec(
        insertPypiRows({ database: db, name: 'pypi' }, 100_000, '2024-02-01 00:00:00', '2024-03-01 00:00:00'),
      );
    });
    env = await createTestTemporal();
  });

  afterAll(async () => {
    workers.killAll();
    await env?.teardown();
    if (workers.idle) rmSync(runDir, { recursive: true, force: true });
  });

  it.each([
    ['during the fill', 'insert:started', 'view_fill', 0],
    ['between the fill and the move', 'insert:finished', 'view_filled', 0],
    ['right after the move landed', 'move:done', 'view_moved', 'all'],
  ] as const)('%s: the target counts every row once', async (_, point, target, atCrash) => {
    const marker = path.join(runDir, `${target}.fired`);
    const killed = workers.start(env.address, `${target}-killed`, { at: `${point}@202401`, marker });
    const job = pypiViewJob('pypi-downloads-per-day.yaml', db, {
      target: { table: `${db}.${target}`, engine: 'SummingMergeTree', partitionBy: 'month' },
      view: { name: `${target}_mv` },
      fill: 'ranged',
    });
    const handle = await env.client.workflow.start('viewBackfillWorkflow', {
      taskQueue,
      workflowId: `view-crash-${target}-${randomUUID()}`,
      args: [{ job }],
    });
    const result = handle.result() as Promise<ViewBackfillSummary>;
    const exit = await Promise.race([killed.exited, result.then(() => 'completed' as const)]);
    expect(exit).toEqual({ code: null, signal: 'SIGKILL' });
    expect(killed.steps().at(-1)).toBe(`${point} 202401`);

    const crashed = await withClickHouse(async (ch) => ({
      ...(await digests(ch, target, 202401)),
      shadows: await shadows(ch),
    }));
    if (atCrash === 0) {
      expect(crashed.target.groups).toBe('0');
      expect(crashed.shadows).toEqual([`${target}_v2_202401`]);
    } else {
      // The worst window: the live target already holds January, the activity never reported it.
      expect(crashed.target).toEqual(crashed.source);
    }

    const recovered = workers.start(env.address, `${target}-recovered`);
    try {
      const summary = await result;
      expect(summary.partitions.map((p) => p.partition)).toEqual(['202401', '202402']);
      expect(recovered.steps()).toContain(`${point} 202401`);
    } finally {
      await workers.stop(recovered);
    }
    await withClickHouse(async (ch) => {
      for (const month of [202401, 202402]) {
        const { target: t, source } = await digests(ch, target, month);
        expect(t).toEqual(source);
      }
      expect(await shadows(ch)).toEqual([]);
    });
  });
});
