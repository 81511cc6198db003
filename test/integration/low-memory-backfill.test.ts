import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { createDemoEventsTable, insertDemoEvents } from '../../examples/demo/sql/demo-events';
import { createHarness, exampleJob, type Harness } from '../helpers/backfill-harness';
import { freshDatabase } from '../helpers/chdb-env';
import { targetAndSingleLevel } from '../helpers/target-digest';
import { statementOf } from '../helpers/statement-of';

/** How often this process's GROUP BYs have written a spill file so far. */
async function spilledParts(h: Harness): Promise<number> {
  const rows = await h.ch.rows(
    statementOf<{ value: string }>({
      query: "SELECT toString(value) AS value FROM system.events WHERE event = 'ExternalAggregationWritePart'",
      params: {},
    }),
  );
  return Number(rows[0]?.value ?? 0);
}

describe('a backfill with the low-memory insert settings', () => {
  let h: Harness;
  let db: string;

  beforeAll(async () => {
    h = await createHarness();
    db = await freshDatabase(h.ch, 'lowmem');
    const events = { database: db, name: 'events' };
    await h.ch.exec(createDemoEventsTable(events));
    // About 200,000 rows a month: more groups than the 100,000 keys from which a GROUP BY can spill.
    await h.ch.exec(insertDemoEvents(events, '2024-01-01', 3, 600_000));
  });
  afterAll(() => h.close());

  it('spills its GROUP BYs to disk and still writes exactly the single-level aggregation', async () => {
    const example = parse(
      readFileSync(path.resolve(__dirname, '../../examples/events-daily-low-memory.yaml'), 'utf8'),
    ) as { insertSettings: Record<string, number> };
    // A 1-byte threshold spills at every chance, on the salted partitions in both levels of the aggregation.
    const insertSettings = { ...example.insertSettings, max_bytes_before_external_group_by: 1 };
    const spilledBefore = await spilledParts(h);

    const summary = (await h.backfill({
      job: exampleJob(db, { chunkSize: 5_000, insertSettings }),
      from: '2024-01-01',
      to: '2024-03-31',
    })) as { partitions: { salt: number }[]; rowsRead: number };

    expect(summary.rowsRead).toBe(600_000);
    expect(summary.partitions.some((p) => p.salt > 1)).toBe(true);
    expect(await spilledParts(h)).toBeGreaterThan(spilledBefore);
    const { target, expected } = await targetAndSingleLevel(h.ch, db);
    expect(target).toEqual(expected);
  });
});
