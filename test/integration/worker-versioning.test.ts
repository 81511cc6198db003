import type { WorkflowHandleWithFirstExecutionRunId } from '@temporalio/client';
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import { createDemoEventsTable, insertDemoEvents } from '../../examples/demo/sql/demo-events';
import type { BackfillSummary } from '../../src/shared/backfill-results';
import { historyFillPriority, TaskPriority } from '../../src/shared/task-priority';
import { findTemporalCli } from '../../src/temporal/temporal-cli-path';
import { versionedWorker } from '../../src/worker/worker-deployment';
import { exampleJob, type Harness } from '../helpers/backfill-harness';
import { freshDatabase } from '../helpers/chdb-env';
import { createContinueAsNewHarness } from '../helpers/continue-as-new';
import { progressUntil } from '../helpers/progress-until';
import { targetAndSingleLevel } from '../helpers/target-digest';

const run = promisify(execFile);

/**
 * Makes `buildId` the current version of `deploymentName` with the pinned Temporal CLI, as docs/deploying.md says;
 * the version exists once one of its workers has polled, so the first tries may be refused.
 */
async function setCurrentVersion(h: Harness, deploymentName: string, buildId: string): Promise<void> {
  const args = ['worker', 'deployment', 'set-current-version', '--address', h.env.address, '--namespace', 'default'];
  args.push('--deployment-name', deploymentName, '--build-id', buildId, '--yes');
  let last: unknown;
  for (let i = 0; i < 150; i++) {
    try {
      await run(findTemporalCli(), args);
      return;
    } catch (err) {
      last = err;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  throw last;
}

/** The build ids that completed the workflow tasks of one run. */
async function buildsOf(h: Harness, workflowId: string, runId?: string): Promise<Set<string>> {
  const events = (await h.env.client.workflow.getHandle(workflowId, runId).fetchHistory()).events ?? [];
  return new Set(
    events.flatMap((e) => {
      const done = e.workflowTaskCompletedEventAttributes;
      return done ? [done.deploymentVersion?.buildId ?? 'unversioned'] : [];
    }),
  );
}

/** Every run of a workflow, first to last, following its continue-as-new chain. */
async function runsOf(h: Harness, handle: WorkflowHandleWithFirstExecutionRunId): Promise<string[]> {
  const runs = [handle.firstExecutionRunId];
  for (;;) {
    const events = (await h.env.client.workflow.getHandle(handle.workflowId, runs.at(-1)).fetchHistory()).events;
    const next = events?.at(-1)?.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId;
    if (!next) return runs;
    runs.push(next);
  }
}

describe('a backfill during a worker rollout (worker versioning)', () => {
  let h: Harness;
  let db: string;

  beforeAll(async () => {
    h = await createContinueAsNewHarness();
    db = await freshDatabase(h.ch, 'rollout');
    const events = { database: db, name: 'events' };
    await h.ch.exec(createDemoEventsTable(events));
    await h.ch.exec(insertDemoEvents(events, '2024-01-01', 2, 6_000));
  });
  afterAll(() => h.close());

  it('stays on the build that started it and moves to the new build at its next continue-as-new', async () => {
    const deploymentName = `ch-backfill-${randomUUID().slice(0, 8)}`;
    const job = exampleJob(db, { partitionBy: 'day', chunkSize: 1_000 });
    const { handle, summary } = await h.withWorker(
      async () => {
        await setCurrentVersion(h, deploymentName, 'build-a');
        const started = await h.env.client.workflow.start('backfillWorkflow', {
          taskQueue: h.taskQueue,
          workflowId: `backfill-${randomUUID()}`,
          args: [{ job, from: '2024-01-01', to: '2024-02-29' }],
          priority: historyFillPriority(`${db}.events_daily`),
        });
        await progressUntil(started, (p) => p.partitions.some((x) => x.state === 'swapped'), 'a swapped partition');
        // The new build rolls out while the backfill runs; build A keeps serving until its runs are done.
        const done = await h.withWorker(
          async () => {
            await setCurrentVersion(h, deploymentName, 'build-b');
            return (await started.result()) as BackfillSummary;
          },
          { deployment: versionedWorker(deploymentName, 'build-b') },
        );
        return { handle: started, summary: done };
      },
      { deployment: versionedWorker(deploymentName, 'build-a') },
    );

    const runs = await runsOf(h, handle);
    const builds = await Promise.all(runs.map((r) => buildsOf(h, handle.workflowId, r)));
    // Every run ran on one build: the first on A, the last on B, and none went back to A after B.
    expect(builds.every((b) => b.size === 1)).toBe(true);
    const sequence = builds.map((b) => [...b][0]);
    expect(sequence[0]).toBe('build-a');
    expect(sequence.at(-1)).toBe('build-b');
    expect(sequence.slice(sequence.indexOf('build-b'))).not.toContain('build-a');
    // The last run's partition workflows ran on its build.
    const lastEvents = (await h.env.client.workflow.getHandle(handle.workflowId, runs.at(-1)).fetchHistory()).events;
    const children = (lastEvents ?? []).flatMap((e) => {
      const child = e.childWorkflowExecutionStartedEventAttributes?.workflowExecution;
      return child?.workflowId && child.runId ? [child] : [];
    });
    expect(children.length).toBeGreaterThan(0);
    for (const child of children) {
      expect(await buildsOf(h, child.workflowId!, child.runId!)).toEqual(new Set(['build-b']));
    }
    // The priority it started with holds in its last run too.
    const last = await h.env.client.workflow.getHandle(handle.workflowId, runs.at(-1)).describe();
    expect(last.raw.workflowExecutionInfo?.priority?.priorityKey).toBe(TaskPriority.historyFill);

    // The demo's months are 28 days long: 56 days have events.
    expect(summary.partitions).toHaveLength(56);
    const { target, expected } = await targetAndSingleLevel(h.ch, db);
    expect(target).toEqual(expected);
  });
});
