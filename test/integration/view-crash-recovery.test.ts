import { randomUUID } from 'node:crypto';
import type { ClickHouse } from '../../src/clickhouse/clickhouse';
import type { ViewBackfillSummary } from '../../src/shared/view-input';
import { CRASH_SAFETY, shadowTables, useCrashTest } from '../helpers/crash-workers';
import { createCrashTestPypi, pypiViewJob } from '../helpers/view-jobs';
import { statementOf } from '../helpers/statement-of';

/*
 * A view backfill's worker killed with SIGKILL during the fill, between the fill and the move, and right after the
 * move landed (test/fixtures/crash-worker.ts); a fresh worker finishes. The target must count every source row
 * exactly once: a move is never repeated into a second copy, and a fill is never redone after a move.
 */

const db = 'view_crash';

/** Per (hour, project): the target's summed counts and the view's query over the whole source, in one digest. */
async function digests(ch: ClickHouse, target: string, month: number) {
  const digest = async (inner: string) => {
    const [row] = await ch.rows(
      statementOf<{ groups: string; total: string; digest: string }>({
        query: `SELECT toString(count()) AS groups, toString(sum(n)) AS total,
        toString(groupBitXor(cityHash64(hour, project, n))) AS digest FROM (${inner})`,
        params: { month },
      }),
    );
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

describe('crash recovery of a view backfill: a worker killed with SIGKILL', () => {
  const crash = useCrashTest('view-crash', db, (ch) => createCrashTestPypi(ch, { database: db, name: 'pypi' }));

  it.each([
    ['during the fill', 'insert:started', 'view_fill', 0],
    ['between the fill and the move', 'insert:finished', 'view_filled', 0],
    ['right after the move landed', 'move:done', 'view_moved', 'all'],
  ] as const)('%s: the target counts every row once', async (_, point, target, atCrash) => {
    const job = pypiViewJob('pypi-downloads-per-day.yaml', db, {
      target: { table: `${db}.${target}`, engine: 'SummingMergeTree', partitionBy: 'month' },
      view: { name: `${target}_mv` },
      fill: 'ranged',
      safety: CRASH_SAFETY,
    });
    const run = await crash.runUntilKilled<ViewBackfillSummary>(target, `${point}@202401`, (client, taskQueue) =>
      client.workflow.start('viewBackfillWorkflow', {
        taskQueue,
        workflowId: `view-crash-${target}-${randomUUID()}`,
        args: [{ job }],
      }),
    );
    expect(run.killed.steps().at(-1)).toBe(`${point} 202401`);

    const crashed = await crash.withClickHouse(async (ch) => ({
      ...(await digests(ch, target, 202401)),
      shadows: await shadowTables(ch, db),
    }));
    if (atCrash === 0) {
      expect(crashed.target.groups).toBe('0');
      expect(crashed.shadows).toEqual([`${target}_v2_202401`]);
    } else {
      // The worst window: the live target already holds January, the activity never reported it.
      expect(crashed.target).toEqual(crashed.source);
    }

    const { summary, recovered } = await crash.recover(target, run);
    expect(summary.partitions.map((p) => p.partition)).toEqual(['202401', '202402']);
    expect(recovered.steps()).toContain(`${point} 202401`);
    await crash.withClickHouse(async (ch) => {
      for (const month of [202401, 202402]) {
        const { target: t, source } = await digests(ch, target, month);
        expect(t).toEqual(source);
      }
      expect(await shadowTables(ch, db)).toEqual([]);
    });
  });
});
