import type { TableRef } from '../shared/backfill-results';
import { truncateTable } from '../sql/partition-ops';
import {
  countPypiRows,
  createPypiTable,
  insertPypiRows,
  selectPypiDownloadsDigest,
  selectPypiSourceDownloadsDigest,
} from '../sql/pypi-demo';
import { dropTableIfExists } from '../sql/partition-ops';
import { dropViewIfExists } from '../sql/view';
import type { ActivityDeps } from './deps';
import { withHeartbeat } from './heartbeat';
import { tableResolver } from './table-resolver';

export interface PypiExampleTables {
  source: string;
  target: string;
  view: string;
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
     * The view target against the view's query over every source row, as digests, and the source's rows (those
     * from `since` on: ingested during the run). Durability: read-only.
     */
    async checkPypiExample(
      input: PypiExampleTables & { since: number },
    ): Promise<{ target: PypiDigest; source: PypiDigest; rows: number; ingested: number }> {
      const resolve = await tableResolver(ch);
      const [target] = await ch.rows<PypiDigest>(selectPypiDownloadsDigest(resolve(input.target)));
      const [source] = await ch.rows(selectPypiSourceDownloadsDigest(resolve(input.source)));
      const [count] = await ch.rows(countPypiRows(resolve(input.source), sqlTime(input.since)));
      return { target, source, rows: Number(count.rows), ingested: Number(count.recent) };
    },
  };
}
