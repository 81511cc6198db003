import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { ClickHouse, QuerySettings } from '../src/clickhouse/clickhouse';
import { execWithPeakMemory } from '../src/clickhouse/query-memory';
import type { Statement } from '../src/clickhouse/statement';
import { truncateTable } from '../src/sql/engine/partition-ops';
import { selectActiveParts, stopMerges } from '../src/sql/engine/part-stats';
import {
  createPypiTable,
  insertPypiRows,
  PYPI_VIEWS,
  selectPypiProfile,
  type PypiView,
} from '../examples/demo/sql/pypi-demo';
import {
  NULL_FILL_VARIANTS,
  type FillRun,
  type NullEngineResult,
  type NullEngineTask,
  type ViewFills,
} from './null-engine-fill';
import { answerOneTask } from './one-task-child';
import type { TableRef } from '../src/shared/table-ref';

/**
 * One view target filled the plain way (into `plain`) and through the Null table `nullTable`, whose view `mv`
 * feeds `filled`.
 */
interface ViewBench {
  title: string;
  view: PypiView;
  plain: string;
  nullTable: string;
  filled: string;
  mv: string;
}

const VIEW_BENCHES: ViewBench[] = [
  {
    title: 'pypi_downloads (per project, the benchmark the issue asks for)',
    view: PYPI_VIEWS.perProject,
    plain: 'pypi_downloads',
    nullTable: 'pypi_projects_null',
    filled: 'pypi_downloads_v2',
    mv: 'pypi_downloads_mv_v2',
  },
  {
    title: 'pypi_downloads_per_day (per hour and project, the view of the guide’s Null-engine example)',
    view: PYPI_VIEWS.perHour,
    plain: 'pypi_downloads_per_day',
    nullTable: 'pypi_timestamps_null',
    filled: 'pypi_downloads_per_day_v2',
    mv: 'pypi_downloads_per_day_mv_v2',
  },
];

/**
 * Runs `statement` alone and measures it: wall time, the query's own peak memory (see src/clickhouse/query-memory.ts)
 * and the parts it left in `target`, whose merges are stopped. Returns the target's digest with it.
 */
async function measuredFill(
  ch: ClickHouse,
  probe: ClickHouse,
  view: PypiView,
  label: string,
  statement: Statement,
  settings: QuerySettings,
  target: TableRef,
): Promise<{ run: Omit<FillRun, 'agrees'>; digest: string }> {
  await ch.exec(truncateTable(target));
  const started = performance.now();
  const peak = await execWithPeakMemory(ch, probe, statement, { queryId: `bench-${randomUUID()}`, settings });
  const wallMs = performance.now() - started;
  const [parts] = await ch.rows(selectActiveParts(target));
  const [digest] = await ch.rows(view.selectDigest(target));
  const run = {
    label,
    settings: settings as Record<string, number>,
    wallMs,
    peakMemoryBytes: peak?.bytes,
    memorySource: peak?.source,
    memorySamples: peak?.samples ?? 0,
    targetParts: Number(parts.parts),
    targetRows: Number(parts.rows),
  };
  return { run, digest: JSON.stringify(digest) };
}

/** The plain INSERT, then each Null-engine variant, each compared with the plain INSERT's target. */
async function benchView(
  ch: ClickHouse,
  probe: ClickHouse,
  bench: ViewBench,
  table: (name: string) => TableRef,
  source: TableRef,
): Promise<ViewFills> {
  const { view } = bench;
  const [plainTarget, nullTable, filled] = [bench.plain, bench.nullTable, bench.filled].map(table);
  const plainInsert = view.insertPlain(source, plainTarget);
  const nullFill = view.insertIntoNull(source, nullTable);
  const plain = await measuredFill(ch, probe, view, 'plain INSERT … SELECT … GROUP BY', plainInsert, {}, plainTarget);
  const runs: FillRun[] = [{ ...plain.run, agrees: true }];
  for (const variant of NULL_FILL_VARIANTS) {
    const fill = await measuredFill(ch, probe, view, variant.label, nullFill, variant.settings, filled);
    runs.push({ ...fill.run, agrees: fill.digest === plain.digest });
  }
  return { title: bench.title, runs };
}

async function run(ch: ClickHouse, probe: ClickHouse, task: NullEngineTask) {
  const table = (name: string): TableRef => ({ database: task.database, name });
  const pypi = table('pypi');
  await ch.exec({ query: 'CREATE DATABASE IF NOT EXISTS {db:Identifier}', params: { db: task.database } });
  await ch.exec(createPypiTable(pypi));
  const seedStarted = performance.now();
  await ch.exec(insertPypiRows(pypi, task.rows, task.start, task.end));
  const seedMs = performance.now() - seedStarted;
  const [profile] = await ch.rows(selectPypiProfile(pypi));

  for (const { view, plain, nullTable, filled, mv } of VIEW_BENCHES) {
    await ch.exec(view.createNullTable(table(nullTable)));
    for (const target of [plain, filled]) await ch.exec(view.createTarget(table(target)));
    await ch.exec(view.createView(table(mv), table(nullTable), table(filled)));
  }
  // Merges stopped: the parts a fill leaves are the blocks it wrote, and no merge runs during the next fill.
  for (const { plain, filled } of VIEW_BENCHES) {
    for (const target of [plain, filled]) await ch.exec(stopMerges(table(target)));
  }

  const views: ViewFills[] = [];
  for (const bench of VIEW_BENCHES) views.push(await benchView(ch, probe, bench, table, pypi));
  return { rows: task.rows, seedMs, profile, views };
}

/** Child entry: runs the Null-engine comparison it is sent (see {@link answerOneTask}). */
answerOneTask<NullEngineTask, NullEngineResult>(async ({ ch, probe }, task) => run(ch, await probe(), task));
