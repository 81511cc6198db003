import { randomUUID } from 'node:crypto';
import type { ClickHouse } from '../../src/clickhouse/clickhouse';
import type { ViewRestateInputRaw, ViewRestateSummary } from '../../src/shared/view-restate-input';
import { createPypiTable, insertPypiRows } from '../../examples/demo/sql/pypi-demo';
import { CRASH_SAFETY, shadowTables, useCrashTest, type CrashTest } from '../helpers/crash-workers';
import { statementOf } from '../helpers/statement-of';
import { createDaily, everyDownloadDaily, wheelsOnlyDaily } from '../helpers/restate-daily';

/*
 * A worker running a view restate killed with SIGKILL (see test/fixtures/crash-worker.ts) after the fill, and
 * after REPLACE PARTITION committed but before the step finished; a fresh worker finishes the restate. The
 * restated partitions then equal the view's fixed query over the source exactly, and no shadow is left. The
 * embedded engine opens its data directory in one process at a time, so no ingestion runs here (the restate with
 * ingestion running is test/integration/view-restate.test.ts).
 */

const db = 'restate_crash';
const oldSelect = wheelsOnlyDaily(db);
const newSelect = everyDownloadDaily(db);

/** Rows and a digest of the grouped totals of some months, of the target or of a query over the source. */
async function digest(ch: ClickHouse, inner: string, month: number) {
  const [row] = await ch.rows(
    statementOf<{ rows: string; hash: string }>({
      query: `SELECT toString(count()) AS rows, toString(groupBitXor(cityHash64(day, project, n))) AS hash FROM (SELECT day, project, sum(downloads) AS n FROM (${inner}) WHERE toYYYYMM(day) = {month:UInt32} GROUP BY day, project)`,
      params: { month },
    }),
  );
  return row;
}

async function restateThroughCrash(crash: CrashTest, from: string, to: string, crashAt: string) {
  const input: ViewRestateInputRaw = {
    job: {
      kind: 'view-restate',
      view: `${db}.daily_mv`,
      writesEndBefore: '2024-04-01T00:00:00Z',
      safety: CRASH_SAFETY,
    },
    from,
    to,
  };
  const name = `restate-${crashAt.replace(/[:@]/g, '-')}`;
  const run = await crash.runUntilKilled<ViewRestateSummary>(name, crashAt, (client, taskQueue) =>
    client.workflow.start('viewRestateWorkflow', { taskQueue, workflowId: `${name}-${randomUUID()}`, args: [input] }),
  );
  const { summary, recovered } = await crash.recover(name, run);
  expect(run.killed.steps().at(-1)).toBe(crashAt.replace('@', ' '));
  expect(recovered.steps()).toContain(crashAt.replace('@', ' '));
  return summary;
}

describe('crash recovery of a view restate', () => {
  const crash = useCrashTest('restate-crash', db, async (ch) => {
    const pypi = { database: db, name: 'pypi' };
    await ch.exec(createPypiTable(pypi));
    await ch.exec(insertPypiRows(pypi, 200_000, '2024-01-01 00:00:00', '2024-04-01 00:00:00'));
    const exec = (query: string) => ch.exec(statementOf({ query, params: {} }));
    await exec(createDaily(db));
    await exec(`INSERT INTO ${db}.daily ${oldSelect}`);
    await exec(`CREATE MATERIALIZED VIEW ${db}.daily_mv TO ${db}.daily AS ${newSelect}`);
  });

  it('a kill between the fill and the swap: the partition is restated once, equal to the fixed query', async () => {
    const before = await crash.withClickHouse((ch) => digest(ch, `SELECT * FROM ${db}.daily`, 202401));
    const summary = await restateThroughCrash(crash, '2024-01-01', '2024-01-31', 'insert:finished@202401');
    expect(summary.partitions.map((p) => p.partition)).toEqual(['202401']);
    await crash.withClickHouse(async (ch) => {
      const after = await digest(ch, `SELECT * FROM ${db}.daily`, 202401);
      expect(after).toEqual(await digest(ch, newSelect, 202401));
      expect(after).not.toEqual(before);
      expect(await shadowTables(ch, db)).toEqual([]);
    });
  });

  it('a kill after REPLACE PARTITION committed: the swap is repeated, one copy of the restated partition', async () => {
    await restateThroughCrash(crash, '2024-02-01', '2024-03-31', 'swap:replaced@202402');
    await crash.withClickHouse(async (ch) => {
      for (const month of [202402, 202403]) {
        expect(await digest(ch, `SELECT * FROM ${db}.daily`, month)).toEqual(await digest(ch, newSelect, month));
      }
      expect(await shadowTables(ch, db)).toEqual([]);
    });
  });
});
