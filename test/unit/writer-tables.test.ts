import { partitionLockId } from '../../src/shared/partition-lock';
import { backupTableFor, shadowTableFor, writerTag } from '../../src/shared/writer-tables';

describe('names of a writer: lock, shadow and backup', () => {
  const target = { database: 'analytics', name: 'events_daily' };

  it('the lock names the resolved target and the partition, whoever writes', () => {
    expect(partitionLockId(target, '202401')).toBe('partition:analytics.events_daily/202401');
  });

  it('a writer tag is stable for one writer and differs between writers and between runs of one id', () => {
    const tag = writerTag('backfill-a', 'run-1');
    expect(tag).toMatch(/^[0-9a-f]{8}$/);
    expect(writerTag('backfill-a', 'run-1')).toBe(tag);
    expect(writerTag('backfill-b', 'run-1')).not.toBe(tag);
    expect(writerTag('backfill-a', 'run-2')).not.toBe(tag);
  });

  it('shadows and backups live next to the target and carry the writer tag', () => {
    expect(shadowTableFor(target, '202401', '0a1b2c3d')).toEqual({
      database: 'analytics',
      name: 'events_daily_v2_202401_0a1b2c3d',
    });
    expect(backupTableFor(target, '0a1b2c3d')).toEqual({ database: 'analytics', name: 'events_daily_backup_0a1b2c3d' });
  });
});
