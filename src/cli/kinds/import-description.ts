import { type ImportDescription } from '../../shared/import-input';
import { formatCheckpoint } from '../../shared/import-batch-task';
import type { ImportJob } from '../../shared/job-spec';
import { DESCRIBED_WRITER_TAG } from '../../shared/view-input';
import { formatStatements, serverLine } from './view-description';
import { qualifiedName } from '../../shared/table-ref';

const MiB = (bytes: number): string => `${(bytes / 1024 ** 2).toFixed(1)} MiB`;

/** A file source's part of the dry run: files, bytes, batches (first and last few), what the ledger left out. */
function fileLines(plan: ImportDescription['plan']): string[] {
  const files = plan.files;
  if (!files) return [];
  const batch = (b: ImportDescription['plan']['batches'][number]) =>
    `  ${b.id}: ${b.fileCount ?? b.files?.length ?? 0} files, ${MiB(b.bytes ?? 0)}: ${b.start} … ${b.end}`;
  const shown =
    plan.batches.length <= 6
      ? plan.batches.map(batch)
      : [
          ...plan.batches.slice(0, 3).map(batch),
          `  … ${plan.batches.length - 6} more …`,
          ...plan.batches.slice(-3).map(batch),
        ];
  return [
    `files: ${files.files.toLocaleString('en-US')} (${MiB(files.bytes)}) read through ${files.reader.fn}() as ` +
      `${files.reader.format}${files.reader.namedCollection ? ` with named collection ${files.reader.namedCollection}` : ''}; ` +
      'credentials come from the server (environment or named collection), never from the job',
    ...(files.alreadyLoaded > 0 ? [`left out: ${files.alreadyLoaded} files the ledger holds as loaded`] : []),
    ...files.changed.map(
      (c) =>
        `changed since loaded, not loaded: ${c.path} (size ${c.loaded.size} → ${c.now.size}, etag ${c.loaded.etag || '-'} → ${c.now.etag || '-'})`,
    ),
    `batches (${plan.batches.length}, at most the job's fileBatches.maxFiles files and maxBytes bytes each):`,
    ...shown,
    ...(plan.batches.length > 3
      ? ['statements are shown for the first two batches and the last: the others read alike']
      : []),
  ];
}

/**
 * An import job's dry run as a person reads it: the tables, the checkpoint, the views found and what validation
 * compares for each target, the batches, every table and view a run creates, then every statement in the order a
 * run sends it, each ending in `;`, with its parameters and settings as `--` lines after it.
 */
export function formatImportDescription(file: string, job: ImportJob, d: ImportDescription): string {
  const { plan } = d;
  const checkpoint = formatCheckpoint(plan.checkpoint);
  const lines = [
    `dry run of ${file}: nothing was created or changed`,
    ...serverLine(plan.server),
    `history ${qualifiedName(plan.source)} → ${qualifiedName(plan.target)} (partition key: ${plan.partitionKey || 'none'})`,
    `checkpoint ${checkpoint}${job.checkpoint === 'auto' ? ` (auto: min(${job.target.timeColumn}) now)` : ''}: ` +
      'history rows before it are loaded, ingestion owns the rows from it on',
    `columns loaded: ${plan.columns.join(', ')}`,
    ...(plan.views.length === 0
      ? [`no materialized view reads ${qualifiedName(plan.target)}`]
      : plan.views.map((v) => `view ${qualifiedName(v.view)} → ${qualifiedName(v.target)}: ${v.select}`)),
    ...plan.targets.map((t) => {
      const compared = [...(t.rows ? ['rows'] : []), ...t.totals.map((c) => `${c.read}(${c.column})`)];
      const checks = compared.length > 0 ? `validation compares ${compared.join(', ')}` : 'no exact check';
      return `target ${qualifiedName(t.table)} (${t.engine}): ${checks}${t.note ? ` (${t.note})` : ''}`;
    }),
    ...(plan.files
      ? fileLines(plan)
      : [
          `batches, newest first: ${
            plan.batches.map((b) => `${b.id} (${b.sourceRows.toLocaleString('en-US')} rows)`).join(', ') || 'none'
          }`,
        ]),
    `duplicates are named <table>_v2_<batch>_${DESCRIBED_WRITER_TAG}: a run's tag is 8 hex digits of its ids`,
    `a run creates: ${d.creates.join(', ') || 'nothing'}`,
  ];
  return [...lines, ...formatStatements(d.statements)].join('\n');
}
