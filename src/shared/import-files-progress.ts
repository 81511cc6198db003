import type { ImportBatch } from './import-input';
import { PROGRESS_PATH_CHARS, type FilesProgress, type PartitionProgress } from './progress';

/** A path cut to its last {@link PROGRESS_PATH_CHARS} characters (the file name stays). */
const shortPath = (path: string): string =>
  path.length <= PROGRESS_PATH_CHARS ? path : `…${path.slice(path.length - PROGRESS_PATH_CHARS + 1)}`;

const running = (p: PartitionProgress): boolean =>
  p.state === 'running' || p.state === 'validated' || p.state === 'waiting';

/**
 * Files progress of an import from files, derived from the plan's batches and the batches' progress entries when
 * the `progress` query is answered (nothing is kept in the workflow's state): files and bytes of the batches
 * moved (`swapped`) out of all planned, and each running batch's size with its first and last file.
 */
export function filesProgress(
  batches: readonly ImportBatch[],
  partitions: readonly PartitionProgress[],
): FilesProgress {
  const byId = new Map(batches.map((b) => [b.id, b]));
  const progress: FilesProgress = { files: 0, bytes: 0, filesDone: 0, bytesDone: 0, current: [] };
  for (const b of batches) {
    progress.files += b.fileCount ?? b.files?.length ?? 0;
    progress.bytes += b.bytes ?? 0;
  }
  for (const p of partitions) {
    const b = byId.get(p.id);
    if (!b) continue;
    const files = b.fileCount ?? b.files?.length ?? 0;
    const bytes = b.bytes ?? 0;
    if (p.state === 'swapped') {
      progress.filesDone += files;
      progress.bytesDone += bytes;
    } else if (running(p)) {
      progress.current.push({ batch: b.id, files, bytes, first: shortPath(b.start), last: shortPath(b.end) });
    }
  }
  return progress;
}
