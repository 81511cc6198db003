import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createDemoEventsTable, insertDemoEvents } from '../../examples/demo/sql/demo-events';
import type { BackfillDescription } from '../../src/shared/backfill-description';
import type { JobSpecInput } from '../../src/shared/job-spec';
import { serviceWorkflowId } from '../../src/shared/service-workflow';
import { createHarness, exampleJob, type Harness } from '../helpers/backfill-harness';
import { freshDatabase } from '../helpers/chdb-env';
import { runCliCaptured } from '../helpers/run-cli-captured';

/*
 * The CLI's read-only questions (`plan`, `history`, `doctor`) answered by the task queue's one service workflow as
 * Updates, through the CLI against a real dev server and the embedded engine.
 */

describe('read-only commands through the service workflow', () => {
  let h: Harness;

  const cli = (...args: string[]) =>
    runCliCaptured({ TEMPORAL_ADDRESS: h.env.address, TEMPORAL_TASK_QUEUE: h.taskQueue }, ...args);
  const jobFile = (job: JobSpecInput): string => {
    const file = path.join(tmpdir(), `service-job-${randomUUID()}.json`);
    writeFileSync(file, JSON.stringify(job));
    return file;
  };
  const workflowsOnQueue = async (): Promise<{ id: string; type: string; status: string }[]> => {
    const found: { id: string; type: string; status: string }[] = [];
    for await (const w of h.env.client.workflow.list({ query: `TaskQueue = '${h.taskQueue}'` })) {
      found.push({ id: w.workflowId, type: w.type, status: w.status.name });
    }
    return found;
  };

  beforeAll(async () => {
    h = await createHarness();
    h.serve();
  });

  afterAll(async () => {
    await h?.close();
  });

  it('plan, history and doctor answer through one helper-tagged service workflow, leaving no workflow per question', async () => {
    const db = await freshDatabase(h.ch, 'service');
    const events = { database: db, name: 'events' };
    await h.ch.exec(createDemoEventsTable(events));
    await h.ch.exec(insertDemoEvents(events, '2024-01-01', 1, 10_000));
    const good = jobFile(exampleJob(db));
    const bad = jobFile(exampleJob(db, { metrics: { daily_events: 'count()', clicks: 'sum(clicks)' } }));

    const plan = await cli('plan', '--job', good, '--from', '2024-01-01', '--to', '2024-01-31', '--json');
    const refused = await cli('plan', '--job', bad, '--from', '2024-01-01', '--to', '2024-01-31');
    const history = await cli('history', `${db}.events_daily`);
    const doctor = await cli('doctor');

    expect(plan.err).toBe('');
    const description = JSON.parse(plan.out) as BackfillDescription;
    expect(description.partitions.map((p) => p.id)).toEqual(['202401']);
    expect(refused.code).toBe(1);
    expect(refused.err).toContain('metrics.clicks: column "clicks" does not exist');
    expect(refused.err).toContain(
      `inspect it with: temporal workflow show --workflow-id ${serviceWorkflowId(h.taskQueue)}`,
    );
    expect(history.err).toBe('');
    expect(history.out.split('\n')[0]).toBe(`${db}._backfill_ledger on ${db}.events_daily: 0 rows, newest first`);
    expect(doctor.err).toBe('');
    expect(doctor.out).toContain(`ok    worker: serves task queue ${h.taskQueue}`);
    expect(doctor.code).toBe(0);

    expect(await workflowsOnQueue()).toEqual([
      { id: serviceWorkflowId(h.taskQueue), type: 'backfillServiceWorkflow', status: 'RUNNING' },
    ]);
    const helpers = [];
    for await (const w of h.env.client.workflow.list({
      query: `TaskQueue = '${h.taskQueue}' AND BackfillRole = 'helper'`,
    })) {
      helpers.push(w.workflowId);
    }
    expect(helpers).toEqual([serviceWorkflowId(h.taskQueue)]);
  });
});
