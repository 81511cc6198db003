import { randomUUID } from 'node:crypto';
import type { ClickHouse } from '../../src/clickhouse/clickhouse';
import type { ViewRestateInputRaw, ViewRestateSummary } from '../../src/shared/view-restate-input';
import { createPypiTable, insertPypiRows } from '../../examples/demo/sql/pypi-demo';
import { CRASH_SAFETY, shadowTables, useCrashTest } from '../helpers/crash-workers';
import { statementOf } from '../helpers/statement-of';
import { createDaily, createMonthly, everyDownloadDaily, monthlyFrom, wheelsOnlyDaily } from '../helpers/restate-daily';

/*
 * A worker restating a chain (daily_mv → daily → monthly_mv → monthly) killed with SIGKILL right after the deepest
 * level's REPLACE PARTITION (monthly restated, daily not yet): a fresh worker repeats the swap step, which replaces
 * monthly again from the same shadow and then daily. Both levels then equal the fixed queries exactly, once.
 */

const db = 'restate_chain_crash';
const oldSelect = wheelsOnlyDaily(db);
const newSelect = everyDownloadDaily(db);
const monthlyOf = monthlyFrom;

/** Rows and a digest of `(key, project, n)` of one month, of a target or of a query over the source. */
async function digest(ch: ClickHouse, inner: string, key: 'day' | 'month', month: number) {
  const [row] = await ch.rows(
    statementOf<{ rows: string; hash: string }>({
      query: `SELECT toString(count()) AS rows, toString(groupBitXor(cityHash64(${key}, project, n))) AS hash FROM (SELECT ${key}, project, sum(downloads) AS n FROM (${inner}) WHERE toYYYYMM(${key}) = {month:UInt32} GROUP BY ${key}, project)`,
      params: { month },
    }),
  );
  return row;
}

describe('crash recovery of a view restate of a chain', () => {
  const crash = useCrashTest('restate-chain-crash', db, async (ch) => {
    const pypi = { database: db, name: 'pypi' };
    await ch.exec(createPypiTable(pypi));
    await ch.exec(insertPypiRows(pypi, 200_000, '2024-01-01 00:00:00', '2024-04-01 00:00:00'));
    const exec = (query: string) => ch.exec(statementOf({ query, params: {} }));
    await exec(createDaily(db));
    await exec(createMonthly(db));
    await exec(`CREATE MATERIALIZED VIEW ${db}.monthly_mv TO ${db}.monthly AS ${monthlyOf(`${db}.daily`)}`);
    // The history as the old definition wrote it, through both levels; then A's query fixed.
    await exec(`INSERT INTO ${db}.daily ${oldSelect}`);
    await exec(`CREATE MATERIALIZED VIEW ${db}.daily_mv TO ${db}.daily AS ${newSelect}`);
  });

  it('a kill after the deepest level was replaced: the swap is repeated, every level restated once', async () => {
    const input: ViewRestateInputRaw = {
      job: {
        kind: 'view-restate',
        view: `${db}.daily_mv`,
        writesEndBefore: '2024-04-01T00:00:00Z',
        safety: CRASH_SAFETY,
      },
      from: '2024-02-01',
      to: '2024-02-29',
    };
    const name = 'restate-chain-swap-replaced';
    const at = 'swap:replaced@202402';
    const before = await crash.withClickHouse(async (ch) => ({
      daily: await digest(ch, `SELECT * FROM ${db}.daily`, 'day', 202402),
      monthly: await digest(ch, `SELECT * FROM ${db}.monthly`, 'month', 202402),
    }));
    const run = await crash.runUntilKilled<ViewRestateSummary>(name, at, (client, taskQueue) =>
      client.workflow.start('viewRestateWorkflow', { taskQueue, workflowId: `${name}-${randomUUID()}`, args: [input] }),
    );
    expect(run.killed.steps().at(-1)).toBe('swap:replaced 202402');
    const fixedDaily = (ch: ClickHouse) => digest(ch, newSelect, 'day', 202402);
    const fixedMonthly = (ch: ClickHouse) => digest(ch, monthlyOf(`(${newSelect})`), 'month', 202402);
    // Killed in the window: monthly holds the restated month, daily still the old one.
    await crash.withClickHouse(async (ch) => {
      expect(await digest(ch, `SELECT * FROM ${db}.monthly`, 'month', 202402)).toEqual(await fixedMonthly(ch));
      expect(await digest(ch, `SELECT * FROM ${db}.daily`, 'day', 202402)).toEqual(before.daily);
    });

    const { summary, recovered } = await crash.recover(name, run);
    expect(summary.partitions.map((p) => p.partition)).toEqual(['202402']);
    expect(recovered.steps()).toContain('swap:replaced 202402');
    await crash.withClickHouse(async (ch) => {
      const daily = await digest(ch, `SELECT * FROM ${db}.daily`, 'day', 202402);
      const monthly = await digest(ch, `SELECT * FROM ${db}.monthly`, 'month', 202402);
      expect(daily).toEqual(await fixedDaily(ch));
      expect(daily).not.toEqual(before.daily);
      expect(monthly).toEqual(await fixedMonthly(ch));
      expect(monthly).not.toEqual(before.monthly);
      // January untouched at both levels.
      expect(await digest(ch, `SELECT * FROM ${db}.monthly`, 'month', 202401)).toEqual(
        await digest(ch, monthlyOf(`(${oldSelect})`), 'month', 202401),
      );
      expect(await shadowTables(ch, db)).toEqual([]);
    });
  });
});
