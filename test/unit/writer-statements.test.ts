import { jobKindFor } from '../../src/cli/kinds/registry';
import { writerStatements } from '../../src/cli/report/report-statements';
import {
  aggregateJob,
  aggregateTask,
  importJob,
  importTask,
  PARTITION,
  viewJob,
  viewTask,
} from '../helpers/topology-jobs';

const params = (statements: { params: Record<string, unknown> }[]) => JSON.stringify(statements.map((s) => s.params));

describe("a partition writer's statements, rendered from its recorded task", () => {
  it("an aggregate partition's carry its writer's shadow, salt and backup", () => {
    const task = { ...aggregateTask(), partition: { ...PARTITION, salt: 4 } };
    const statements = jobKindFor('job.yaml', aggregateJob).writerStatements(task);
    const insert = statements.find((s) => s.step === 'partition 202401: insert' && /^INSERT/.test(s.query));
    expect(insert?.params).toMatchObject({ into: 'events_daily_v2_202401_w1', salt: 4 });
    // The live partition had rows: the writer kept them in its backup before the swap.
    expect(
      statements.some(
        (s) =>
          s.step === 'partition 202401: backup' && /events_daily_backup_w1/.test(s.query + JSON.stringify(s.params)),
      ),
    ).toBe(true);
    expect(statements.map((s) => s.query).join('\n')).toMatch(/REPLACE PARTITION/);
  });

  it("a view partition's and an import batch's carry their writer's shadow", () => {
    const view = jobKindFor('job.yaml', viewJob).writerStatements(viewTask());
    expect(params(view)).toContain('events_hourly_v2_202401_w1');
    expect(view.map((s) => s.query).join('\n')).toMatch(/MOVE PARTITION/);
    const batch = importTask();
    const imported = jobKindFor('job.yaml', importJob).writerStatements(batch);
    expect(params(imported)).toContain(batch.shadow.name);
  });

  it("are refused for another kind's task, naming both", () => {
    expect(() => jobKindFor('job.yaml', aggregateJob).writerStatements(viewTask())).toThrow(
      "a view partition task is not one of an aggregate job's writers (job.yaml)",
    );
  });

  it('are rendered only for the workflow that runs the job, and the page says why not otherwise', () => {
    expect(writerStatements('b1', 'backfillWorkflow', aggregateJob).render).toBeDefined();
    const daily = writerStatements('d1', 'dailyIncrementalWorkflow', aggregateJob);
    expect(daily.render).toBeUndefined();
    expect(daily.source).toBe(
      'statements are not rendered for a dailyIncrementalWorkflow: only for the workflow an aggregate job runs ' +
        "(backfillWorkflow), whose writers' tasks the renderer knows",
    );
    expect(writerStatements('x', 'rollbackWorkflow', undefined).source).toBe(
      'rollbackWorkflow recorded no job in its input: its statements are not rendered',
    );
  });
});
