import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { valuesAgree } from '../src/activities/engine/validation-check';
import type { ClickHouse } from '../src/clickhouse/clickhouse';
import { execWithPeakMemory } from '../src/clickhouse/query-memory';
import type { Statement } from '../src/clickhouse/statement';
import { createTargetTable, insertAggregation } from '../src/sql/aggregate/aggregation';
import { aggregationShape } from '../src/sql/aggregate/aggregation-shape';
import {
  countRows,
  createDemoEventsTable,
  insertDailyDemoEvents,
  insertDemoEvents,
} from '../examples/demo/sql/demo-events';
import { createTableLike, dropTableIfExists, truncateTable } from '../src/sql/engine/partition-ops';
import {
  createPypiDownloadsTable,
  createPypiTable,
  insertPypiDownloads,
  insertPypiRows,
  selectPypiDownloadsDigest,
} from '../examples/demo/sql/pypi-demo';
import { selectSourcePartitionStats } from '../src/sql/aggregate/source-stats';
import { selectPartitionTotals, selectSourceTotals } from '../src/sql/aggregate/totals';
import type {
  ClickHouseTask,
  ClickHouseTaskResult,
  InsertMemoryRun,
  InsertMemoryTask,
  ProbeTask,
  PypiInsertTask,
  RawInsertTask,
  VerifyTask,
} from './messages';
import { answerOneTask, type TaskEngine } from './one-task-child';
import { qualifiedName, type TableRef } from '../src/shared/table-ref';

/** Milliseconds `work` takes. */
async function timed(work: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await work();
  return performance.now() - started;
}

/** Creates `table` (and its database) with `create`, fills it with `inserts` in turn, timed, and counts its rows. */
async function seedTable(ch: ClickHouse, table: TableRef, create: Statement, ...inserts: Statement[]) {
  await ch.exec({ query: 'CREATE DATABASE IF NOT EXISTS {db:Identifier}', params: { db: table.database } });
  await ch.exec(create);
  const ms = await timed(async () => {
    for (const insert of inserts) await ch.exec(insert);
  });
  const [{ rows }] = await ch.rows(countRows(table));
  return { rows: Number(rows), ms };
}

async function pypiInsert(ch: ClickHouse, task: PypiInsertTask) {
  await ch.exec(dropTableIfExists(task.into));
  await ch.exec(createPypiDownloadsTable(task.into));
  const insertMs = await timed(() => ch.exec(insertPypiDownloads(task.pypi, task.into)));
  const [bare] = await ch.rows(selectPypiDownloadsDigest(task.into));
  const [durable] = await ch.rows(selectPypiDownloadsDigest(task.compare));
  return { insertMs, agrees: JSON.stringify(bare) === JSON.stringify(durable) };
}

async function rawInsert(ch: ClickHouse, task: RawInsertTask) {
  const shape = aggregationShape(task.job);
  await ch.exec(dropTableIfExists(task.into));
  await ch.exec(createTargetTable(shape, task.source, task.into));
  const insertMs = await timed(() =>
    ch.exec(insertAggregation(shape, task.source, task.into, task.range, 1), { settings: task.job.insertSettings }),
  );
  const [{ rows }] = await ch.rows(countRows(task.into));
  return { insertMs, rowsWritten: Number(rows) };
}

async function probe(ch: ClickHouse, task: ProbeTask) {
  const shape = aggregationShape(task.job);
  const whole = { start: task.partitions[0].start, end: task.partitions[task.partitions.length - 1].end };
  const planStatsMs = await timed(() => ch.rows(selectSourcePartitionStats(shape, task.source, whole)));
  let sourceCountMs = 0;
  let partitionTotalsMs = 0;
  let insertPlannedSaltMs = 0;
  let insertUnsaltedMs = 0;
  let fullValidationMs = 0;
  await ch.exec(dropTableIfExists(task.scratch));
  await ch.exec(createTableLike(task.scratch, task.target));
  const insertAlone = async (p: ProbeTask['partitions'][number], salt: number): Promise<number> => {
    await ch.exec(truncateTable(task.scratch));
    const statement = insertAggregation(shape, task.source, task.scratch, p, salt);
    return timed(() => ch.exec(statement, { settings: task.job.insertSettings }));
  };
  for (const p of task.partitions) {
    sourceCountMs += await timed(() => ch.rows(selectSourceTotals(shape, task.source, p, false, false)));
    fullValidationMs += await timed(() => ch.rows(selectSourceTotals(shape, task.source, p, true, true)));
    partitionTotalsMs += await timed(() => ch.rows(selectPartitionTotals(shape, task.target, p.id)));
    insertPlannedSaltMs += await insertAlone(p, p.salt);
    insertUnsaltedMs += await insertAlone(p, 1);
  }
  await ch.exec(dropTableIfExists(task.scratch));
  return { planStatsMs, sourceCountMs, partitionTotalsMs, insertPlannedSaltMs, insertUnsaltedMs, fullValidationMs };
}

/**
 * Each partition's bare INSERT per settings variant, with the INSERT's own peak memory read while it runs (`probe`:
 * a second connection on the same data directory).
 */
async function insertMemory(ch: ClickHouse, probe: ClickHouse, task: InsertMemoryTask) {
  const shape = aggregationShape(task.job);
  await ch.exec(dropTableIfExists(task.scratch));
  await ch.exec(createTableLike(task.scratch, task.target));
  const runs: InsertMemoryRun[] = [];
  try {
    for (const variant of task.variants) {
      const run: InsertMemoryRun = { ...variant, samples: 0, insertMs: 0 };
      for (const p of task.partitions) {
        await ch.exec(truncateTable(task.scratch));
        const insert = insertAggregation(shape, task.source, task.scratch, p, p.salt);
        const started = performance.now();
        const peak = await execWithPeakMemory(ch, probe, insert, {
          queryId: `bench-memory-${randomUUID()}`,
          settings: variant.settings,
        });
        run.insertMs += performance.now() - started;
        if (peak && peak.bytes > (run.peakBytes ?? -1))
          Object.assign(run, { peakBytes: peak.bytes, source: peak.source });
        run.samples += peak?.samples ?? 0;
      }
      runs.push(run);
    }
  } finally {
    await ch.exec(dropTableIfExists(task.scratch));
  }
  return { runs };
}

async function verify(ch: ClickHouse, task: VerifyTask) {
  const shape = aggregationShape(task.job);
  const mismatches: string[] = [];
  for (const partition of task.partitions) {
    const totals = [];
    for (const table of task.tables) {
      const [row] = await ch.rows(selectPartitionTotals(shape, table, partition));
      totals.push(row);
    }
    const [first, ...rest] = totals;
    rest.forEach((other, i) => {
      const differs = Object.keys(first).some((k) => !valuesAgree(first[k], other[k], 1e-9));
      if (differs) {
        const [a, b] = [task.tables[0], task.tables[i + 1]].map((t) => qualifiedName(t));
        mismatches.push(`${partition}: ${a} ${JSON.stringify(first)} vs ${b} ${JSON.stringify(other)}`);
      }
    });
  }
  return { mismatches };
}

async function run(engine: TaskEngine, task: ClickHouseTask): Promise<ClickHouseTaskResult> {
  const { ch } = engine;
  switch (task.kind) {
    case 'seed': {
      const insert = insertDemoEvents(task.source, task.start, task.months, task.rows);
      return seedTable(ch, task.source, createDemoEventsTable(task.source), insert);
    }
    case 'seed-days': {
      // The demo table is partitioned by month, and one INSERT may write at most 100 partitions: ten years of days
      // go in runs of at most 1,000 days (33 months).
      const runs = Array.from({ length: Math.ceil(task.days / 1000) }, (_, i) => {
        const from = new Date(Date.parse(`${task.from}T00:00:00Z`) + i * 1000 * 86_400_000).toISOString().slice(0, 10);
        return insertDailyDemoEvents(task.source, from, Math.min(1000, task.days - i * 1000), task.rowsPerDay);
      });
      return seedTable(ch, task.source, createDemoEventsTable(task.source), ...runs);
    }
    case 'seed-pypi':
      return seedTable(
        ch,
        task.pypi,
        createPypiTable(task.pypi),
        insertPypiRows(task.pypi, task.rows, task.start, task.end),
      );
    case 'pypi-insert':
      return pypiInsert(ch, task);
    case 'insert-memory':
      return insertMemory(ch, await engine.probe(), task);
    case 'raw-insert':
      return rawInsert(ch, task);
    case 'probe':
      return probe(ch, task);
    case 'verify':
      return verify(ch, task);
  }
}

/** Child entry: answers the one ClickHouse task it is sent (see {@link answerOneTask}). */
answerOneTask(run);
