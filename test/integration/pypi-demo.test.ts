import type { ClickHouse } from '../../src/clickhouse/clickhouse';
import { countRows } from '../../examples/demo/sql/demo-events';
import {
  createPypiTable,
  insertPypiRows,
  PYPI_TOP_PROJECTS,
  PYPI_VIEWS,
  selectPypiProfile,
} from '../../examples/demo/sql/pypi-demo';
import { freshDatabase, openTestClickHouse } from '../helpers/chdb-env';
import type { TableRef } from '../../src/shared/table-ref';
import { statementOf } from '../helpers/statement-of';

const ROWS = 100_000;
const START = '2024-10-01 00:00:00';
const END = '2024-12-17 09:00:00';

const { perProject, perHour } = PYPI_VIEWS;

describe('the PyPI-like generator and the guide’s views', () => {
  let ch: ClickHouse;
  let table: (name: string) => TableRef;

  beforeAll(async () => {
    ch = openTestClickHouse();
    const db = await freshDatabase(ch, 'pypi');
    table = (name) => ({ database: db, name });
    await ch.exec(createPypiTable(table('pypi')));
    await ch.exec(perProject.createTarget(table('pypi_downloads')));
    await ch.exec(perProject.createView(table('pypi_downloads_mv'), table('pypi'), table('pypi_downloads')));
    await ch.exec(perHour.createTarget(table('pypi_downloads_per_day')));
    await ch.exec(
      perHour.createView(table('pypi_downloads_per_day_mv'), table('pypi'), table('pypi_downloads_per_day')),
    );
    await ch.exec(insertPypiRows(table('pypi'), ROWS, START, END));
  });
  afterAll(() => ch.close());

  const digestOf = async (name: string) => (await ch.rows(perProject.selectDigest(table(name))))[0];

  it('writes the requested rows, all inside the time range, one partition per month', async () => {
    const [profile] = await ch.rows(selectPypiProfile(table('pypi')));
    expect(profile.rows).toBe(String(ROWS));
    expect(profile.first).toBe(START);
    expect(profile.last < END).toBe(true);
    expect(profile.last > '2024-12-17 08:00:00').toBe(true);
    const partitions = await ch.rows(
      statementOf<{ partition: string }>({
        query:
          'SELECT DISTINCT partition FROM system.parts WHERE database = {db:String} AND table = {name:String} ' +
          'AND active ORDER BY partition',
        params: { db: table('pypi').database, name: 'pypi' },
      }),
    );
    expect(partitions.map((p) => p.partition)).toEqual(['202410', '202411', '202412']);
  });

  it('gives a few projects most downloads and a long tail the rest', async () => {
    const [profile] = await ch.rows(selectPypiProfile(table('pypi')));
    expect(profile.top1_share).toBeGreaterThan(0.14);
    expect(profile.top1_share).toBeLessThan(0.18);
    expect(profile.top10_share).toBeGreaterThan(0.42);
    expect(profile.top10_share).toBeLessThan(0.48);
    expect(Number(profile.projects)).toBeGreaterThan(10_000);
    const [top] = await ch.rows(
      statementOf<{ project: string }>({
        query: 'SELECT project FROM {db:Identifier}.pypi GROUP BY project ORDER BY count() DESC LIMIT 1',
        params: { db: table('pypi').database },
      }),
    );
    expect(top.project).toBe(PYPI_TOP_PROJECTS[0]);
  });

  it('is the same data on every run', async () => {
    await ch.exec(createPypiTable(table('pypi_again')));
    await ch.exec(insertPypiRows(table('pypi_again'), ROWS, START, END));
    const digest = (name: string) =>
      ch.rows(
        statementOf<{ digest: string }>({
          query: 'SELECT toString(groupBitXor(cityHash64(*))) AS digest FROM {db:Identifier}.{name:Identifier}',
          params: { db: table(name).database, name },
        }),
      );
    expect(await digest('pypi_again')).toEqual(await digest('pypi'));
  });

  it('feeds both views on insert: every download counted once per project and per hour', async () => {
    const plain = table('pypi_downloads_plain');
    await ch.exec(perProject.createTarget(plain));
    await ch.exec(perProject.insertPlain(table('pypi'), plain));
    expect(await digestOf('pypi_downloads')).toEqual(await digestOf('pypi_downloads_plain'));
    expect((await digestOf('pypi_downloads')).downloads).toBe(String(ROWS));

    const [perHour] = await ch.rows(
      statementOf<{ downloads: string; first: string; last: string; off_hour: string }>({
        query:
          'SELECT toString(sum(count)) AS downloads, toString(min(hour)) AS first, toString(max(hour)) AS last, ' +
          'toString(countIf(hour != toStartOfHour(hour))) AS off_hour FROM {db:Identifier}.pypi_downloads_per_day',
        params: { db: table('pypi').database },
      }),
    );
    expect(perHour).toEqual({ downloads: String(ROWS), first: START, last: '2024-12-17 08:00:00', off_hour: '0' });
  });

  it('fills a view target through a Null table with the same downloads per project as the plain INSERT', async () => {
    const nullTable = table('pypi_null');
    await ch.exec(perProject.createNullTable(nullTable));
    await ch.exec(perProject.createTarget(table('pypi_downloads_v2')));
    await ch.exec(perProject.createView(table('pypi_downloads_mv_v2'), nullTable, table('pypi_downloads_v2')));
    // Small blocks, so the view aggregates many partial blocks whose counts the target must add up.
    await ch.exec(perProject.insertIntoNull(table('pypi'), nullTable), {
      settings: {
        max_threads: 1,
        max_insert_threads: 1,
        min_insert_block_size_rows: 0,
        min_insert_block_size_bytes: 65536,
      },
    });
    const [stored] = await ch.rows(countRows(nullTable));
    expect(stored.rows).toBe('0');
    expect(await digestOf('pypi_downloads_v2')).toEqual(await digestOf('pypi_downloads'));
  });

  it('fills the per-hour target through a Null table with the same counts as the view and the plain INSERT', async () => {
    const nullTable = table('pypi_timestamps_null');
    const [filled, plain] = [table('pypi_downloads_per_day_v2'), table('pypi_downloads_per_day_plain')];
    await ch.exec(perHour.createNullTable(nullTable));
    for (const target of [filled, plain]) await ch.exec(perHour.createTarget(target));
    await ch.exec(perHour.createView(table('pypi_downloads_per_day_mv_v2'), nullTable, filled));
    await ch.exec(perHour.insertIntoNull(table('pypi'), nullTable), {
      settings: { min_insert_block_size_rows: 0, min_insert_block_size_bytes: 65536 },
    });
    await ch.exec(perHour.insertPlain(table('pypi'), plain));
    const digest = async (target: TableRef) => (await ch.rows(perHour.selectDigest(target)))[0];
    const viaView = await digest(table('pypi_downloads_per_day'));
    expect(viaView.downloads).toBe(String(ROWS));
    expect(await digest(filled)).toEqual(viaView);
    expect(await digest(plain)).toEqual(viaView);
  });
});
