import { describeProgress, formatProgress } from '../../src/cli/progress-view';
import type { ImportFile } from '../../src/shared/import-file-source';
import { filesProgress } from '../../src/shared/import-files-progress';
import { fileBatches } from '../../src/activities/import/plan-file-import';
import { initialProgress, PROGRESS_PATH_CHARS, type PartitionProgress } from '../../src/shared/progress';

const file = (i: number, dir = 'bucket/pypi/2024-12-17'): ImportFile => ({
  path: `${dir}/part-${String(i).padStart(5, '0')}.parquet`,
  size: 1000 + i,
  etag: `"${i.toString(16)}"`,
  mtime: 1_734_400_000 + i,
});

const entry = (id: string, state: PartitionProgress['state']): PartitionProgress => ({
  id,
  state,
  salt: 1,
  sourceRows: 0,
});

describe('progress of an import from files', () => {
  const files = Array.from({ length: 10 }, (_, i) => file(i));
  const batches = fileBatches(files, { maxFiles: 4, maxBytes: 1024 ** 3 });

  it('counts files and bytes of the batches moved, and shows each running batch by its first and last file', () => {
    const partitions = [entry('f0001', 'swapped'), entry('f0002', 'running'), entry('f0003', 'pending')];
    const f = filesProgress(batches, partitions);
    expect(f).toMatchObject({ files: 10, filesDone: 4, bytes: files.reduce((n, x) => n + x.size, 0) });
    expect(f.bytesDone).toBe(1000 + 1001 + 1002 + 1003);
    expect(f.current).toEqual([{ batch: 'f0002', files: 4, bytes: 4022, first: files[4].path, last: files[7].path }]);
  });

  it('a failed batch is not done; status and the one-line view show files and bytes', () => {
    const partitions = [entry('f0001', 'failed'), entry('f0002', 'swapped'), entry('f0003', 'validated')];
    const progress = { ...initialProgress(2), partitions, total: 3, files: filesProgress(batches, partitions) };
    expect(progress.files.filesDone).toBe(4);
    const text = formatProgress('import-pypi', progress);
    expect(text).toContain('files 4/10 (3.9 KiB/9.8 KiB) loaded');
    expect(text).toContain(`  batch f0003: 2 files, 2.0 KiB: ${files[8].path} … ${files[9].path}`);
    expect(describeProgress(progress, 'import-pypi')).toContain('files 4/10');
  });

  it('cuts long paths to their end, keeping the file name', () => {
    const long = [file(1, `bucket/${'x'.repeat(5000)}`)];
    const f = filesProgress(fileBatches(long, { maxFiles: 1, maxBytes: 1 }), [entry('f0001', 'running')]);
    expect(f.current[0].first).toHaveLength(PROGRESS_PATH_CHARS);
    expect(f.current[0].first.startsWith('…')).toBe(true);
    expect(f.current[0].first.endsWith('part-00001.parquet')).toBe(true);
  });
});
