import type { TableRef } from '../../../src/shared/table-ref';
import { truncateTable } from '../../../src/sql/engine/partition-ops';
import {
  countPypiRows,
  createPypiTable,
  createPypiTableWithViews,
  insertPypiRows,
  pypiViewOf,
  selectPypiDownloadsDigest,
  selectPypiDownloadsPerDayDigest,
  selectPypiRowsBefore,
  selectPypiSourceDownloadsDigest,
  selectPypiSourceDownloadsPerDayDigest,
} from '../sql/pypi-demo';
import { dropTableIfExists } from '../../../src/sql/engine/partition-ops';
import { dropViewIfExists } from '../../../src/sql/view/view';
import type { ActivityDeps } from '../../../src/activities/engine/deps';
import { withHeartbeat } from '../../../src/activities/engine/heartbeat';
import { tableResolver } from '../../../src/activities/engine/table-resolver';

export interface PypiExampleTables {
  source: string;
  target: string;
  view: string;
}

/**
 * The tables of `npm start -- --example pypi-import`: the live `pypi`, its history, and the guide's two view targets
 * (each fed by the view `<target>_mv`).
 */
export interface PypiImportExampleTables {
  source: string;
  history: string;
  downloads: string;
  perDay: string;
}

export interface PypiDigest {
  groups: string;
  downloads: string;
  digest: string;
}

/** `YYYY-MM-DD hh:mm:ss` (UTC), as the generator takes it. */
const sqlTime = (ms: number): string => new Date(ms).toISOString().slice(0, 19).replace('T', ' ');

/**
 * The activities of `npm start -- --example pypi` (the guide's scenario 2 on generated PyPI downloads). They run
 * on the worker because, on the embedded engine, only the worker may open the data directory.
 */
export function pypiExample({ clickhouse: ch, log }: ActivityDeps) {
  return {
    /**
     * A fresh start for the example: drops its view and target (a view made by an earlier run has another cutoff),
     * and fills `pypi` with `rows` downloads over the `days` before now unless it already holds that many.
     * Durability: drops are `IF EXISTS`; a table with fewer rows (a fill cut short) is emptied and filled again.
     */
    async preparePypiExample(input: PypiExampleTables & { rows: number; days: number }): Promise<{ rows: number }> {
      return withHeartbeat(
        () => ({ step: 'prepare pypi example' }),
        async () => {
          const resolve = await tableResolver(ch);
          const source = resolve(input.source);
          await ch.exec(dropViewIfExists(resolve(input.view)));
          await ch.exec(dropTableIfExists(resolve(input.target)));
          await ch.exec(createPypiTable(source));
          const [{ rows }] = await ch.rows(countPypiRows(source, sqlTime(Date.now())));
          if (Number(rows) === input.rows) return { rows: input.rows };
          log.info('generating PyPI downloads', { table: input.source, rows: input.rows });
          await ch.exec(truncateTable(source));
          const end = Date.now() - 3_600_000;
          await ch.exec(insertPypiRows(source, input.rows, sqlTime(end - input.days * 86_400_000), sqlTime(end)));
          return { rows: input.rows };
        },
      );
    },

    /**
     * Live ingestion: every `intervalMs`, `batch` downloads timestamped over the last interval go into the source,
     * until the activity is cancelled. Durability: none needed — each batch is new data, like real traffic; a retry
     * after a crash simply goes on ingesting.
     */
    async ingestPypi(input: { source: string; batch: number; intervalMs: number }): Promise<void> {
      const source: TableRef = (await tableResolver(ch))(input.source);
      await withHeartbeat(
        () => ({ step: 'ingest' }),
        async (signal) => {
          while (!signal.aborted) {
            const now = Date.now();
            await ch.exec(insertPypiRows(source, input.batch, sqlTime(now - input.intervalMs), sqlTime(now)));
            await new Promise((r) => setTimeout(r, input.intervalMs));
          }
        },
      );
    },

    /**
     * A fresh start for the import example: `pypi` recreated empty with the guide's two views and their targets,
     * then one first batch of live rows (its first row is the checkpoint); `pypi_history` filled with `rows`
     * downloads over the `days` before the last hour unless it already holds that many.
     * Durability: drops are `IF EXISTS` and creates `IF NOT EXISTS`, so a retry starts over the same way.
     */
    async preparePypiImportExample(
      input: PypiImportExampleTables & { rows: number; days: number; batch: number },
    ): Promise<{ historyRows: number }> {
      return withHeartbeat(
        () => ({ step: 'prepare pypi import example' }),
        async () => {
          const resolve = await tableResolver(ch);
          const [source, history, downloads, perDay] = [input.source, input.history, input.downloads, input.perDay].map(
            resolve,
          );
          for (const target of [downloads, perDay]) await ch.exec(dropViewIfExists(pypiViewOf(target)));
          for (const table of [downloads, perDay, source]) await ch.exec(dropTableIfExists(table));
          for (const statement of createPypiTableWithViews(source, { perProject: downloads, perHour: perDay })) {
            await ch.exec(statement);
          }
          await ch.exec(createPypiTable(history));
          const [{ rows }] = await ch.rows(countPypiRows(history, sqlTime(Date.now())));
          if (Number(rows) !== input.rows) {
            log.info('generating PyPI history', { table: input.history, rows: input.rows });
            await ch.exec(truncateTable(history));
            const end = Date.now() - 3_600_000;
            await ch.exec(insertPypiRows(history, input.rows, sqlTime(end - input.days * 86_400_000), sqlTime(end)));
          }
          await ch.exec(insertPypiRows(source, input.batch, sqlTime(Date.now() - 1000), sqlTime(Date.now())));
          return { historyRows: input.rows };
        },
      );
    },

    /**
     * The import example's check: `pypi` before the checkpoint against the history before it (rows and digest), and
     * each view target against its view's query over every row of `pypi`, those ingested during the run included.
     * Durability: read-only.
     */
    async checkPypiImportExample(input: PypiImportExampleTables & { checkpoint: number; since: number }) {
      const resolve = await tableResolver(ch);
      const source = resolve(input.source);
      const [loaded] = await ch.rows(selectPypiRowsBefore(source, input.checkpoint));
      const [history] = await ch.rows(selectPypiRowsBefore(resolve(input.history), input.checkpoint));
      const [count] = await ch.rows(countPypiRows(source, sqlTime(input.since)));
      const digest = async (target: Promise<PypiDigest[]>, expected: Promise<PypiDigest[]>) => ({
        target: (await target)[0],
        source: (await expected)[0],
      });
      return {
        loaded,
        history,
        rows: Number(count.rows),
        downloads: await digest(
          ch.rows(selectPypiDownloadsDigest(resolve(input.downloads))),
          ch.rows(selectPypiSourceDownloadsDigest(source)),
        ),
        perDay: await digest(
          ch.rows(selectPypiDownloadsPerDayDigest(resolve(input.perDay))),
          ch.rows(selectPypiSourceDownloadsPerDayDigest(source)),
        ),
      };
    },

    /**
     * The view target against the view's query over every source row, as digests, and the source's rows (those
     * from `since` on: ingested during the run). Durability: read-only.
     */
    async checkPypiExample(
      input: PypiExampleTables & { since: number },
    ): Promise<{ target: PypiDigest; source: PypiDigest; rows: number; ingested: number }> {
      const resolve = await tableResolver(ch);
      const [target] = await ch.rows(selectPypiDownloadsDigest(resolve(input.target)));
      const [source] = await ch.rows(selectPypiSourceDownloadsDigest(resolve(input.source)));
      const [count] = await ch.rows(countPypiRows(resolve(input.source), sqlTime(input.since)));
      return { target, source, rows: Number(count.rows), ingested: Number(count.recent) };
    },
  };
}
