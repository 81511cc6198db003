import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { ClickHouse, QuerySettings } from '../src/clickhouse/clickhouse';
import { execWithPeakMemory } from '../src/clickhouse/query-memory';
import type { Statement } from '../src/clickhouse/statement';
import type { TableRef } from '../src/shared/backfill-results';
import { truncateTable } from '../src/sql/partition-ops';
import { selectActiveParts, stopMerges } from '../src/sql/part-stats';
import {
  createPypiDownloadsPerDayTable,
  createPypiDownloadsPerDayView,
  createPypiDownloadsTable,
  createPypiDownloadsView,
  createPypiProjectsNullTable,
  createPypiTable,
  createPypiTimestampsNullTable,
  insertPypiDownloads,
  insertPypiDownloadsPerDay,
  insertPypiProjects,
  insertPypiRows,
  insertPypiTimestamps,
  selectPypiDownloadsDigest,
  selectPypiDownloadsPerDayDigest,
  selectPypiProfile,
} from '../src/sql/pypi-demo';
import {
  NULL_FILL_VARIANTS,
  type FillRun,
  type NullEngineResult,
  type NullEngineTask,
  type PypiProfile,
  type ViewFills,
} from './null-engine-fill';
import { answerOneTask } from './one-task-child';

/** One view target filled the plain way and through a Null table, its tables and views already created. */
interface ViewBench {
  title: string;
  plain: Statement;
  plainTarget: TableRef;
  fill: Statement;
  fillTarget: TableRef;
  digest: (table: TableRef) => Statement;
}

/**
 * Runs `statement` alone and measures it: wall time, the query's own peak memory (see src/clickhouse/query-memory.ts)
 * and the parts it left in `target`, whose merges are stopped. Returns the target's digest with it.
 */
async function measuredFill(
  ch: ClickHouse,
  probe: ClickHouse,
  view: ViewBench,
  label: string,
  statement: Statement,
  settings: QuerySettings,
  target: TableRef,
): Promise<{ run: Omit<FillRun, 'agrees'>; digest: string }> {
  await ch.exec(truncateTable(target));
  const started = performance.now();
  const peak = await execWithPeakMemory(ch, probe, statement, { queryId: `bench-${randomUUID()}`, settings });
  const wallMs = performance.now() - started;
  const [parts] = await ch.rows<{ parts: string; rows: string }>(selectActiveParts(target));
  const [digest] = await ch.rows(view.digest(target));
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
async function benchView(ch: ClickHouse, probe: ClickHouse, view: ViewBench): Promise<ViewFills> {
  const plain = await measuredFill(
    ch,
    probe,
    view,
    'plain INSERT … SELECT … GROUP BY',
    view.plain,
    {},
    view.plainTarget,
  );
  const runs: FillRun[] = [{ ...plain.run, agrees: true }];
  for (const variant of NULL_FILL_VARIANTS) {
    const fill = await measuredFill(ch, probe, view, variant.label, view.fill, variant.settings, view.fillTarget);
    runs.push({ ...fill.run, agrees: fill.digest === plain.digest });
  }
  return { title: view.title, runs };
}

async function run(ch: ClickHouse, probe: ClickHouse, task: NullEngineTask) {
  const table = (name: string): TableRef => ({ database: task.database, name });
  const pypi = table('pypi');
  await ch.exec({ query: 'CREATE DATABASE IF NOT EXISTS {db:Identifier}', params: { db: task.database } });
  await ch.exec(createPypiTable(pypi));
  const seedStarted = performance.now();
  await ch.exec(insertPypiRows(pypi, task.rows, task.start, task.end));
  const seedMs = performance.now() - seedStarted;
  const [profile] = await ch.rows<PypiProfile>(selectPypiProfile(pypi));

  const perProject = {
    null: table('pypi_projects_null'),
    plain: table('pypi_downloads'),
    v2: table('pypi_downloads_v2'),
  };
  await ch.exec(createPypiProjectsNullTable(perProject.null));
  for (const target of [perProject.plain, perProject.v2]) await ch.exec(createPypiDownloadsTable(target));
  await ch.exec(createPypiDownloadsView(table('pypi_downloads_mv_v2'), perProject.null, perProject.v2));

  const perHour = {
    null: table('pypi_timestamps_null'),
    plain: table('pypi_downloads_per_day'),
    v2: table('pypi_downloads_per_day_v2'),
  };
  await ch.exec(createPypiTimestampsNullTable(perHour.null));
  for (const target of [perHour.plain, perHour.v2]) await ch.exec(createPypiDownloadsPerDayTable(target));
  await ch.exec(createPypiDownloadsPerDayView(table('pypi_downloads_per_day_mv_v2'), perHour.null, perHour.v2));

  // Merges stopped: the parts a fill leaves are the blocks it wrote, and no merge runs during the next fill.
  for (const target of [perProject.plain, perProject.v2, perHour.plain, perHour.v2]) await ch.exec(stopMerges(target));

  const views = [
    await benchView(ch, probe, {
      title: 'pypi_downloads (per project, the benchmark the issue asks for)',
      plain: insertPypiDownloads(pypi, perProject.plain),
      plainTarget: perProject.plain,
      fill: insertPypiProjects(pypi, perProject.null),
      fillTarget: perProject.v2,
      digest: selectPypiDownloadsDigest,
    }),
    await benchView(ch, probe, {
      title: 'pypi_downloads_per_day (per hour and project, the view of the guide’s Null-engine example)',
      plain: insertPypiDownloadsPerDay(pypi, perHour.plain),
      plainTarget: perHour.plain,
      fill: insertPypiTimestamps(pypi, perHour.null),
      fillTarget: perHour.v2,
      digest: selectPypiDownloadsPerDayDigest,
    }),
  ];
  return { rows: task.rows, seedMs, profile, views };
}

/** Child entry: runs the Null-engine comparison it is sent (see {@link answerOneTask}). */
answerOneTask<NullEngineTask, NullEngineResult>(async ({ ch, probe }, task) => run(ch, await probe(), task));
