import { MANAGED_SETTINGS } from '../../src/clickhouse/clickhouse';
import { insertSettingsSchema } from '../../src/shared/job-spec';
import { selectEventsDailyDigest } from '../../examples/demo/sql/demo-events';

describe('the insert settings that bound an INSERT’s memory', () => {
  const spill = {
    max_bytes_before_external_group_by: 100_000_000,
    temporary_files_buffer_size: 65_536,
    collect_hash_table_stats_during_aggregation: 0,
  };

  it('are accepted in a job and reset for every other query (managed settings)', () => {
    expect(insertSettingsSchema.parse(spill)).toEqual(spill);
    for (const name of Object.keys(spill)) expect(MANAGED_SETTINGS).toContain(name);
  });

  it('are refused out of range, naming the setting', () => {
    const refused = insertSettingsSchema.safeParse({ collect_hash_table_stats_during_aggregation: 2 });
    expect(refused.error?.issues[0].path).toEqual(['collect_hash_table_stats_during_aggregation']);
    const zeroBuffer = insertSettingsSchema.safeParse({ temporary_files_buffer_size: 0 });
    expect(zeroBuffer.error?.issues[0].path).toEqual(['temporary_files_buffer_size']);
  });
});

describe('the events_daily digest', () => {
  it('takes the table and the partition as parameters, never spliced', () => {
    const { query, params } = selectEventsDailyDigest({ database: 'bench', name: 'events_daily' }, '202401');
    expect(params).toEqual({ table_db: 'bench', table: 'events_daily', partition: '202401' });
    expect(query).toContain('FROM {table_db:Identifier}.{table:Identifier} WHERE _partition_id = {partition:String}');
    expect(query).not.toContain('202401');
  });
});
