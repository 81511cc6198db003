import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Context } from '@temporalio/activity';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { JobSpecError } from '../../src/activities/errors';
import type { StepPoint } from '../../src/activities';
import type { ClickHouse } from '../../src/clickhouse/clickhouse';
import type { BackfillSummary } from '../../src/shared/backfill-results';
import { createDemoEventsTable, insertDemoEvents } from '../../src/sql/demo-events';
import { createHarness, exampleJob, type Harness } from '../helpers/backfill-harness';
import { freshDatabase } from '../helpers/chdb-env';
import { runCliCaptured } from '../helpers/run-cli-captured';
import { targetAndSingleLevel } from '../helpers/target-digest';

describe('one backfill per target partition, and retrying the failed ones', () => {
  let h: Harness;
  let env: TestWorkflowEnvironment;
  let ch: ClickHouse;
  let db: string;
  let holdJanuary: (() => void) | undefined;
  let failFebruaryOnce = true;

  const onStep = async (point: StepPoint, partition: string): Promise<void> => {
    if (point !== 'insert:started') return;
    if (partition === '202402' && failFebruaryOnce) {
      failFebruaryOnce = false;
      throw new JobSpecError('test', 'injected failure of 202402');
    }
    if (partition === '202401' && holdJanuary === undefined) {
      const signal = Context.current().cancellationSignal;
      await new Promise<void>((resolve) => {
        if (signal.aborted) return resolve();
        holdJanuary = resolve;
        signal.addEventListener('abort', () => resolve());
      });
    }
  };

  const cli = (...args: string[]) =>
    runCliCaptured({ TEMPORAL_ADDRESS: env.address, TEMPORAL_TASK_QUEUE: h.taskQueue }, ...args);

  beforeAll(async () => {
    h = await createHarness();
    ({ env, ch } = h);
    db = await freshDatabase(ch, 'overlap');
    const events = { database: db, name: 'events' };
    await ch.exec(createDemoEventsTable(events));
    await ch.exec(insertDemoEvents(events, '2024-01-01', 3, 30_000));
  });
  afterAll(() => h?.close());

  it('refuses an overlapping start naming the running backfill, lists it, and retry-failed completes the target', async () => {
    const jobFile = path.join(tmpdir(), `job-${randomUUID()}.json`);
    writeFileSync(jobFile, JSON.stringify(exampleJob(db, { chunkSize: 2_000 })));
    const target = `${db}.events_daily`;
    await h.withWorker(
      async () => {
        const started = await cli('start', '--job', jobFile, '--from', '2024-01-15', '--to', '2024-03-31', '--no-wait');
        expect(started).toMatchObject({ code: 0 });
        const id = started.out.match(/^started (\S+)/)?.[1] ?? '';
        expect(id).not.toBe('');
        // Visibility is eventually consistent: wait until the running backfill can be found by its target.
        for (let i = 0; i < 100 && (await env.client.workflow.count(`BackfillTarget = '${target}'`)).count === 0; i++) {
          await new Promise((r) => setTimeout(r, 200));
        }

        const refused = await cli('start', '--job', jobFile, '--from', '2024-03-01', '--to', '2024-04-30', '--no-wait');
        expect(refused.code).toBe(1);
        expect(refused.err).toBe(
          `ch-backfill: refused: running backfill ${id} already covers ${target} partition(s) 202403`,
        );
        const listed = await cli('list', '--running');
        expect(listed.out).toContain(`${id}  RUNNING  ${target}  3 partitions 202401…202403`);

        while (!holdJanuary) await new Promise((r) => setTimeout(r, 100));
        holdJanuary();
        await expect(env.client.workflow.getHandle(id).result()).rejects.toThrow();
        const retried = await cli('retry-failed', id);
        expect(retried).toMatchObject({ code: 0, out: `started ${id}-retry for 1 failed partition(s): 202402` });
        const summary = (await env.client.workflow.getHandle(`${id}-retry`).result()) as BackfillSummary;
        expect(summary.partitions.map((p) => p.partition)).toEqual(['202402']);
      },
      { onStep },
    );
    const digests = await targetAndSingleLevel(ch, db);
    expect(digests.target).toEqual(digests.expected);
  });
});
