import type { Command } from 'commander';
import {
  ScheduleAlreadyRunning,
  ScheduleOverlapPolicy,
  WorkflowIdConflictPolicy,
  type Client,
  type ScheduleOptions,
  type ScheduleOptionsAction,
  type WorkflowStartOptions,
} from '@temporalio/client';
import type { dailyIncrementalWorkflow } from '../../workflows';
import { dailyInputSchema } from '../../shared/daily-input';
import { isTimeZone } from '../../shared/days';
import type { AggregateJob } from '../../shared/job-spec';
import { isoDateRefusal, parseIsoDate } from '../../shared/partitions';
import { CliError } from '../cli-error';
import { loadAggregateJobFile } from '../job-file';
import { connectTemporalClient, taskQueueFromEnv } from '../temporal-client';
import { freshDataPriority } from '../../shared/task-priority';

export interface DailyScheduleSpec {
  job: AggregateJob;
  cron: string;
  timezone: string;
  taskQueue: string;
  scheduleId?: string;
}

/** One schedule per target: `daily-<target table>`. */
export const dailyScheduleId = (job: AggregateJob): string => `daily-${job.target.table}`;

/**
 * The schedule's action with its priority: the SDK (1.24) sends a start action's `priority` to the server but
 * leaves it out of the action's type.
 */
type DailyScheduleAction = ScheduleOptionsAction & Pick<WorkflowStartOptions, 'priority'>;

/**
 * The Schedule: a cron in a time zone starting `dailyIncrementalWorkflow` (no date: the workflow derives the day
 * from the nominal time). Overlap BUFFER_ONE: a run never overlaps the previous one of the same target; one late
 * action waits, more are dropped (catch up with `schedule backfill`).
 */
export function dailyScheduleOptions(spec: DailyScheduleSpec): ScheduleOptions<DailyScheduleAction> {
  const scheduleId = spec.scheduleId ?? dailyScheduleId(spec.job);
  return {
    scheduleId,
    spec: { cronExpressions: [spec.cron], timezone: spec.timezone },
    action: {
      type: 'startWorkflow',
      workflowType: 'dailyIncrementalWorkflow',
      workflowId: `${scheduleId}-run`,
      taskQueue: spec.taskQueue,
      priority: freshDataPriority(spec.job.target.table),
      // Every default applied here, where the input enters: the schedule's runs replay what it recorded.
      args: [dailyInputSchema.parse({ job: spec.job, timezone: spec.timezone })],
    },
    policies: { overlap: ScheduleOverlapPolicy.BUFFER_ONE, catchupWindow: '1 day' },
  };
}

/** Creates the schedule, or updates spec, action and policies in place when it exists: running it twice is a no-op. */
export async function createOrUpdateDailySchedule(
  client: Client,
  spec: DailyScheduleSpec,
): Promise<'created' | 'updated'> {
  const options = dailyScheduleOptions(spec);
  try {
    await client.schedule.create(options);
    return 'created';
  } catch (err) {
    if (!(err instanceof ScheduleAlreadyRunning)) throw err;
    await client.schedule.getHandle(options.scheduleId).update((previous) => ({
      ...previous,
      spec: options.spec,
      action: options.action,
      policies: { ...previous.policies, ...options.policies },
    }));
    return 'updated';
  }
}

/** Parses a `YYYY-MM-DD` flag as a UTC midnight. */
function isoDay(text: string, flag: string): Date {
  const d = parseIsoDate(text);
  if (!d) throw new CliError(`${flag}: ${isoDateRefusal(text)}`);
  return d;
}

interface ScheduleIdOption {
  job?: string;
  scheduleId?: string;
}

function scheduleIdOf(options: ScheduleIdOption): string {
  if (options.scheduleId) return options.scheduleId;
  if (options.job) return dailyScheduleId(loadAggregateJobFile(options.job));
  throw new CliError('give --job <file> or --schedule-id <id>');
}

/**
 * `schedule create|describe|pause|unpause|delete|backfill|trigger|run`: the daily incremental run on a Temporal
 * Schedule. Equivalent of `create` with the Temporal CLI:
 * `temporal schedule create --schedule-id daily-<target> --cron "0 3 * * *" --time-zone Europe/Paris
 *  --workflow-id daily-<target>-run --workflow-type dailyIncrementalWorkflow --task-queue clickhouse-backfill
 *  --overlap-policy BufferOne --input '{"job": …, "timezone": "Europe/Paris"}'`.
 */
export function registerScheduleCommand(program: Command): void {
  const schedule = program.command('schedule').description('the daily incremental run on a Temporal Schedule');
  const withId = (cmd: Command) =>
    cmd
      .option('--job <file>', 'job file (the schedule id is daily-<target>)')
      .option('--schedule-id <id>', 'schedule id');

  schedule
    .command('create')
    .description('create the schedule, or update it when it exists')
    .requiredOption('--job <file>', 'job file (YAML or JSON)')
    .requiredOption('--cron <expr>', 'cron expression, e.g. "0 3 * * *"')
    .option('--timezone <tz>', 'IANA time zone of the cron and of "yesterday"', 'UTC')
    .option('--schedule-id <id>', 'schedule id (default: daily-<target>)')
    .action(async (options: { job: string; cron: string; timezone: string; scheduleId?: string }) => {
      if (!isTimeZone(options.timezone)) throw new CliError(`--timezone: unknown time zone ${options.timezone}`);
      const job = loadAggregateJobFile(options.job);
      const client = await connectTemporalClient();
      const spec = { job, cron: options.cron, timezone: options.timezone, taskQueue: taskQueueFromEnv() };
      const outcome = await createOrUpdateDailySchedule(client, { ...spec, scheduleId: options.scheduleId });
      console.log(`${outcome} schedule ${options.scheduleId ?? dailyScheduleId(job)}`);
    });

  withId(schedule.command('describe').description('show the schedule, its next and recent runs')).action(
    async (options: ScheduleIdOption) => {
      const client = await connectTemporalClient();
      const d = await client.schedule.getHandle(scheduleIdOf(options)).describe();
      console.log(
        [
          `schedule ${d.scheduleId}${d.state.paused ? ' (paused)' : ''}`,
          `  time zone: ${d.spec.timezone ?? 'UTC'}`,
          `  next: ${d.info.nextActionTimes.map((t) => t.toISOString()).join(', ') || '-'}`,
          ...d.info.recentActions.map(
            (a) =>
              `  ran: ${a.scheduledAt.toISOString()} → ${a.action.workflow.workflowId} (${a.action.workflow.firstExecutionRunId})`,
          ),
          ...d.info.runningActions.map((a) => `  running: ${a.workflow.workflowId}`),
        ].join('\n'),
      );
    },
  );

  for (const verb of ['pause', 'unpause', 'delete'] as const) {
    withId(schedule.command(verb).description(`${verb} the schedule`)).action(async (options: ScheduleIdOption) => {
      const client = await connectTemporalClient();
      const id = scheduleIdOf(options);
      const handle = client.schedule.getHandle(id);
      if (verb === 'delete') await handle.delete();
      else await handle[verb](`${verb}d with ch-backfill`);
      console.log(`${verb}d schedule ${id}`);
    });
  }

  withId(
    schedule
      .command('backfill')
      .description(
        "catch up missed days: every action the cron would have taken between the dates (Temporal's schedule backfill)",
      )
      .requiredOption('--from <YYYY-MM-DD>', 'first nominal day (loads the day before it)')
      .requiredOption('--to <YYYY-MM-DD>', 'last nominal day, inclusive'),
  ).action(async (options: ScheduleIdOption & { from: string; to: string }) => {
    const start = isoDay(options.from, '--from');
    const end = isoDay(options.to, '--to');
    end.setUTCDate(end.getUTCDate() + 1);
    const client = await connectTemporalClient();
    const id = scheduleIdOf(options);
    await client.schedule.getHandle(id).backfill({ start, end, overlap: ScheduleOverlapPolicy.BUFFER_ALL });
    console.log(`backfill of schedule ${id} requested for nominal times ${options.from} … ${options.to}`);
  });

  withId(schedule.command('trigger').description('take the scheduled action now (nominal time: now)')).action(
    async (options: ScheduleIdOption) => {
      const client = await connectTemporalClient();
      await client.schedule.getHandle(scheduleIdOf(options)).trigger();
      console.log('triggered');
    },
  );

  schedule
    .command('run')
    .description('load one given day now, outside the schedule')
    .requiredOption('--job <file>', 'job file (YAML or JSON)')
    .requiredOption('--date <YYYY-MM-DD>', 'the day to load')
    .action(async (options: { job: string; date: string }) => {
      isoDay(options.date, '--date');
      const job = loadAggregateJobFile(options.job);
      const client = await connectTemporalClient();
      const workflowId = `${dailyScheduleId(job)}-manual`;
      const result = await client.workflow.execute<typeof dailyIncrementalWorkflow>('dailyIncrementalWorkflow', {
        taskQueue: taskQueueFromEnv(),
        workflowId,
        workflowIdConflictPolicy: WorkflowIdConflictPolicy.FAIL,
        priority: freshDataPriority(job.target.table),
        args: [dailyInputSchema.parse({ job, date: options.date, timezone: 'UTC' })],
      });
      console.log(
        `loaded ${result.day} into partition ${result.partition}: ${result.rowsWritten} rows from ${result.sourceRows} source rows`,
      );
    });
}
