import { randomUUID } from 'node:crypto';
import type { Client, WorkflowHandle } from '@temporalio/client';
import type { ClickHouse } from '../../src/clickhouse/clickhouse';
import { confirmRestateUpdate } from '../../src/shared/messages';
import type { ViewRestateInputRaw, ViewRestateSummary } from '../../src/shared/view-restate-input';
import { createPypiTable, insertPypiRows } from '../../examples/demo/sql/pypi-demo';
import { CRASH_SAFETY, shadowTables, useCrashTest } from '../helpers/crash-workers';
import { progressUntil } from '../helpers/progress-until';
import { statementOf } from '../helpers/statement-of';
import { createDaily, everyDownloadDaily, wheelsOnlyDaily } from '../helpers/restate-daily';

/*
 * A view restate with `ingestion: paused-by-operator` whose worker is killed with SIGKILL (see
 * test/fixtures/crash-worker.ts) while the restate waits for the operator's confirm, and once right after the
 * confirm, between the backup of the partition it then restates and its swap. A fresh worker finishes the restate
 * (after the confirm, in the first case): the restated partitions equal the view's fixed query over the source,
 * once, and no shadow is left. The embedded engine opens its data directory in one process at a time, so no
 * ingestion runs here (it is paused by the operator anyway).
 */

const db = 'restate_confirm_crash';
const oldSelect = wheelsOnlyDaily(db);
const newSelect = everyDownloadDaily(db);

/** Rows, total and a digest of the grouped totals of one month, of the target or of a query over the source. */
async function digest(ch: ClickHouse, inner: string, month: number) {
  const [row] = await ch.rows(
    statementOf<{ rows: string; total: string; hash: string }>({
      query: [
        'SELECT toString(count()) AS rows, toString(sum(n)) AS total,',
        '  toString(groupBitXor(cityHash64(day, project, n))) AS hash',
        `FROM (SELECT day, project, sum(downloads) AS n FROM (${inner}) WHERE toYYYYMM(day) = {month:UInt32} GROUP BY day, project)`,
      ].join('\n'),
      params: { month },
    }),
  );
  return row;
}

/** Rows of `table` in one month. */
async function rowsIn(ch: ClickHouse, table: string, month: number): Promise<number> {
  const [row] = await ch.rows(
    statementOf<{ n: string }>({
      query: `SELECT toString(count()) AS n FROM ${table} WHERE toYYYYMM(day) = {month:UInt32}`,
      params: { month },
    }),
  );
  return Number(row.n);
}

/** Starts the restate of `from`–`to`, the months from `writesEndBefore` on restated after the confirm. */
function startRestate(name: string, from: string, to: string, writesEndBefore: string) {
  const input: ViewRestateInputRaw = {
    job: {
      kind: 'view-restate',
      view: `${db}.daily_mv`,
      writesEndBefore,
      ingestion: 'paused-by-operator',
      safety: CRASH_SAFETY,
    },
    from,
    to,
  };
  return (client: Client, taskQueue: string): Promise<WorkflowHandle> =>
    client.workflow.start('viewRestateWorkflow', { taskQueue, workflowId: `${name}-${randomUUID()}`, args: [input] });
}

const awaitingConfirm = (handle: WorkflowHandle) =>
  progressUntil(handle, (p) => p.ingestion?.state === 'awaiting-confirm', 'the restate waiting for confirm');

describe('crash recovery of a view restate around its confirm', () => {
  const crash = useCrashTest('restate-confirm-crash', db, async (ch) => {
    const pypi = { database: db, name: 'pypi' };
    await ch.exec(createPypiTable(pypi));
    await ch.exec(insertPypiRows(pypi, 100_000, '2024-01-01 00:00:00', '2024-04-01 00:00:00'));
    const exec = (query: string) => ch.exec(statementOf({ query, params: {} }));
    await exec(createDaily(db));
    await exec(`INSERT INTO ${db}.daily ${oldSelect}`);
    await exec(`CREATE MATERIALIZED VIEW ${db}.daily_mv TO ${db}.daily AS ${newSelect}`);
  });

  it('a kill while it waits for confirm: after the restart and the confirm, both months restated once', async () => {
    const before = await crash.withClickHouse((ch) => digest(ch, `SELECT * FROM ${db}.daily`, 202402));
    const name = 'restate-waiting';
    const run = await crash.killWhen<ViewRestateSummary>(
      name,
      startRestate(name, '2024-01-01', '2024-02-29', '2024-02-01T00:00:00Z'),
      async (handle) => {
        await awaitingConfirm(handle);
      },
    );
    // January was restated before the wait; February not begun.
    expect(run.killed.steps()).toContain('swap:replaced 202401');
    expect(run.killed.steps().filter((s) => s.endsWith(' 202402'))).toEqual([]);

    const { summary, recovered } = await crash.recover(name, run, async (handle) => {
      await awaitingConfirm(handle);
      await handle.executeUpdate(confirmRestateUpdate);
    });
    expect(summary.partitions.map((p) => p.partition).sort()).toEqual(['202401', '202402']);
    expect(summary.ingestionMayResumeAt).toBeDefined();
    // Only February was built after the restart: January's swap was not redone.
    expect(recovered.steps().filter((s) => s.endsWith(' 202401'))).toEqual([]);
    expect(recovered.steps()).toContain('swap:replaced 202402');
    await crash.withClickHouse(async (ch) => {
      for (const month of [202401, 202402]) {
        expect(await digest(ch, `SELECT * FROM ${db}.daily`, month)).toEqual(await digest(ch, newSelect, month));
      }
      expect(await digest(ch, `SELECT * FROM ${db}.daily`, 202402)).not.toEqual(before);
      expect(await shadowTables(ch, db)).toEqual([]);
    });
  });

  it('a kill after the confirm, between the backup and the swap: restated once, its backup kept once', async () => {
    const { before, oldRows } = await crash.withClickHouse(async (ch) => ({
      before: await digest(ch, `SELECT * FROM ${db}.daily`, 202403),
      oldRows: await rowsIn(ch, `${db}.daily`, 202403),
    }));
    const name = 'restate-confirmed';
    // Every month of the run after the confirm: the run waits at once.
    const run = await crash.runUntilKilled<ViewRestateSummary>(name, 'backup:kept@202403', async (client, queue) => {
      const handle = await startRestate(name, '2024-03-01', '2024-03-31', '2024-03-01T00:00:00Z')(client, queue);
      await awaitingConfirm(handle);
      await handle.executeUpdate(confirmRestateUpdate);
      return handle;
    });
    expect(run.killed.steps().at(-1)).toBe('backup:kept 202403');

    const { summary, recovered } = await crash.recover(name, run);
    expect(summary.partitions.map((p) => p.partition)).toEqual(['202403']);
    expect(summary.ingestionMayResumeAt).toBeDefined();
    expect(recovered.steps()).toContain('swap:replaced 202403');
    await crash.withClickHouse(async (ch) => {
      const after = await digest(ch, `SELECT * FROM ${db}.daily`, 202403);
      expect(after).toEqual(await digest(ch, newSelect, 202403));
      expect(after).not.toEqual(before);
      // The repeated backup step kept the live partition once.
      expect(await rowsIn(ch, summary.backup ?? '', 202403)).toBe(oldRows);
      expect(await shadowTables(ch, db)).toEqual([]);
    });
  });
});
