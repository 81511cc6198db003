import type { Statement } from '../../clickhouse/statement';
import type { ValidationCheck } from '../../shared/backfill-results';
import { nextDay } from '../../shared/days';
import type { AggregateJob } from '../../shared/job-spec';
import { partitionOf } from '../../shared/partitions';
import type { PlannedStatement } from '../../shared/backfill-description';
import { createTargetTable } from '../../sql/aggregate/aggregation';
import { createTableLike, dropTableIfExists } from '../../sql/engine/partition-ops';
import { selectSourcePartitionStats } from '../../sql/aggregate/source-stats';
import { selectSampleRows, selectSourceRowsOfSample } from '../../sql/aggregate/test-day';
import { aggregatePartitionStatements } from './aggregate-partition-statements';
import type { ActivityDeps } from '../engine/deps';
import { withHeartbeat } from '../engine/heartbeat';
import { rebuildChecks } from './aggregate-steps';
import { checkJob, saltFor } from './plan-backfill';
import { partitionRows } from '../engine/step-runner';
import { dialectOf } from '../../sql/engine/server-dialect';
import { tableResolver } from '../engine/table-resolver';
import { qualifiedName, type TableRef } from '../../shared/table-ref';
import type { AggregatePartitionTask } from '../../shared/partition-task';

/** How many output rows the test shows, and how many of each one's source rows. */
const SAMPLE_ROWS = 3;
const SOURCE_ROWS_PER_SAMPLE = 3;

export interface TestDayInput {
  job: AggregateJob;
  day: string;
  /** Names the scratch table: unique to the asking workflow (see src/shared/writer-tables.ts). */
  tag: string;
}

type Row = Record<string, unknown>;

/** What `plan --test-day` shows: the checks, a few output rows with the source rows they came from, the SQL run. */
export interface TestDayResult {
  source: TableRef;
  target: TableRef;
  /** The scratch table the day was aggregated into; dropped before this result was returned. */
  scratch: TableRef;
  day: string;
  salt: number;
  sourceRows: number;
  outputRows: number;
  checks: ValidationCheck[];
  samples: { output: Row; source: Row[] }[];
  /** At most this many source rows are shown per output row. */
  sourceRowsPerSample: number;
  statements: PlannedStatement[];
  durationMs: number;
}

/** The scratch table of one test of one day: `<target>_test_<YYYYMMDD>_<tag>`, next to the target. */
export function scratchTableFor(target: TableRef, day: string, tag: string): TableRef {
  return { database: target.database, name: `${target.name}_test_${day.replace(/-/g, '')}_${tag}` };
}

/** Pairs each output row with the source rows of its keys. */
function pairSamples(keys: string[], output: Row[], source: Row[]): TestDayResult['samples'] {
  const keyOf = (row: Row) => JSON.stringify(keys.map((k) => row[k]));
  return output.map((o) => ({ output: o, source: source.filter((s) => keyOf(s) === keyOf(o)) }));
}

/** The seed's "one tested query on one day": the job's aggregation of one day, into a scratch table. */
export function testDayActivities({ clickhouse: ch, log }: ActivityDeps) {
  const run = async (statement: PlannedStatement, ran: PlannedStatement[], settings?: Row) => {
    ran.push(statement);
    await ch.exec(statement, settings ? { settings } : undefined);
  };
  const read = async (statement: Statement<Row>, step: string, ran: PlannedStatement[]): Promise<Row[]> => {
    ran.push({ step, ...statement });
    return ch.rows(statement);
  };

  return {
    /**
     * Checks the job as a backfill's plan does (the same refusals), aggregates `day` into a scratch table shaped like
     * the target, runs the partition validation's checks on it against the source's rows of that day, reads a few
     * output rows with the source rows they came from, and drops the scratch table, also when anything failed. The
     * live target is never written (nor created).
     *
     * Durability: the scratch table is unique to the asking workflow and dropped in `finally`; a worker killed in
     * between leaves it, and the workflow then drops it with {@link dropTestDayTable}.
     */
    async testBackfillDay({ job, day, tag }: TestDayInput): Promise<TestDayResult> {
      const started = Date.now();
      return withHeartbeat(
        () => ({ step: 'test day', day }),
        async () => {
          const checked = await checkJob(ch, job);
          const { shape, source, target, targetExisted } = checked;
          const scratch = scratchTableFor(target, day, tag);
          const range = { start: day, end: nextDay(day) };
          const [stats] = await ch.rows(selectSourcePartitionStats(shape, source, range));
          const salt = saltFor(Number(stats?.max_rows_per_key ?? 0), job.chunkSize);
          // The day as a partition task over the scratch table: the very INSERT and validation reads a rebuild runs.
          const task: AggregatePartitionTask = {
            job,
            source,
            target,
            shadow: scratch,
            partition: {
              ...range,
              id: partitionOf(day, shape.granularity).id,
              sourceRows: Number(stats?.rows ?? 0),
              targetRows: 0,
              maxRowsPerKey: Number(stats?.max_rows_per_key ?? 0),
              salt,
            },
            build: { kind: 'rebuild' },
          };
          const statements = aggregatePartitionStatements(task);
          const ran: PlannedStatement[] = [];
          try {
            await run({ step: 'drop a leftover scratch table', ...dropTableIfExists(scratch) }, ran);
            const create = targetExisted ? createTableLike(scratch, target) : createTargetTable(shape, source, scratch);
            await run({ step: 'create the scratch table', ...create }, ran);
            const settings = job.insertSettings as Record<string, number>;
            await run({ step: 'aggregate the day', ...statements.insert, settings }, ran, settings);
            ran.push(...statements.validate.map((st) => ({ step: 'validate', ...st })));
            const { checks } = await rebuildChecks(ch, shape, task);
            const output = await read(selectSampleRows(shape, scratch, SAMPLE_ROWS), 'sample output rows', ran);
            const sourceRows = await read(
              selectSourceRowsOfSample(
                shape,
                source,
                scratch,
                range,
                job.source.timeColumn,
                SAMPLE_ROWS,
                SOURCE_ROWS_PER_SAMPLE,
              ),
              'their source rows',
              ran,
            );
            return {
              source,
              target,
              scratch,
              day,
              salt,
              sourceRows: task.partition.sourceRows,
              outputRows: await partitionRows(ch, scratch, task.partition.id, dialectOf(task.server)),
              checks,
              samples: pairSamples(shape.keys, output, sourceRows),
              sourceRowsPerSample: SOURCE_ROWS_PER_SAMPLE,
              statements: [...ran, { step: 'drop the scratch table', ...dropTableIfExists(scratch) }],
              durationMs: Date.now() - started,
            };
          } finally {
            await ch.exec(dropTableIfExists(scratch));
            log.info('test day done, scratch table dropped', { day, scratch: qualifiedName(scratch) });
          }
        },
      );
    },

    /** Drops a test's scratch table. Durability: `DROP TABLE IF EXISTS`, a no-op when repeated. */
    async dropTestDayTable({ job, day, tag }: TestDayInput): Promise<void> {
      const target = (await tableResolver(ch))(job.target.table);
      await ch.exec(dropTableIfExists(scratchTableFor(target, day, tag)));
    },
  };
}
