import type { ActivityDeps } from '../../../src/activities/engine/deps';
import { tableResolver } from '../../../src/activities/engine/table-resolver';
import { countRows, createDemoEventsTable, insertDemoEvents } from '../sql/demo-events';
import { truncateTable } from '../../../src/sql/engine/partition-ops';
import { withHeartbeat } from '../../../src/activities/engine/heartbeat';

export interface DemoEventsInput {
  table: string;
  start: string;
  months: number;
  rows: number;
}

/**
 * Fills the demo's raw events table when it is empty, so the main command has realistic, skewed history.
 * Durability: a table already holding at least `rows` rows is left alone; one with fewer (a fill cut short by a
 * crash) is emptied and filled again, so a retry always ends with the same demo data.
 */
export function seedDemoEvents({ clickhouse: ch, log }: ActivityDeps) {
  return async (input: DemoEventsInput): Promise<{ rows: number; generated: boolean }> =>
    withHeartbeat(
      () => ({ step: 'seed-demo-events' }),
      async () => {
        const table = (await tableResolver(ch))(input.table);
        await ch.exec(createDemoEventsTable(table));
        const [{ rows }] = await ch.rows(countRows(table));
        if (Number(rows) >= input.rows) return { rows: Number(rows), generated: false };
        log.info('generating demo events', { table: input.table, rows: input.rows, months: input.months });
        await ch.exec(truncateTable(table));
        await ch.exec(insertDemoEvents(table, input.start, input.months, input.rows));
        return { rows: input.rows, generated: true };
      },
    );
}
