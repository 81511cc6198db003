import { serverProfileLine } from '../../shared/server-profile-line';
import type { BackfillDescription } from '../../shared/backfill-description';
import type { BackfillInput } from '../../shared/backfill-input';
import { ONLY_MODES } from '../../shared/ledger';
import type { RunEstimate } from '../../shared/run-estimate';
import { DESCRIBED_WRITER_TAG } from '../../shared/view-input';
import { formatDuration } from '../progress-view';
import { textTable } from '../text-table';
import { formatStatements } from './view-description';
import { qualifiedName } from '../../shared/table-ref';

const count = (n: number): string => n.toLocaleString('en-US');

/** `512 B`, `3.4 MiB`, `1.2 GiB`. */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(1)} ${units[unit]}`;
}

/** The estimate's two lines: the INSERTs' duration and their peak memory, each with its basis or why none. */
export function formatEstimate(e: RunEstimate): string[] {
  if (e.rows === 0) return ['estimate: nothing to aggregate (no source rows in the partitions taken)'];
  const basis = e.basis;
  if (!basis || e.insertMs === undefined) {
    return ['estimate: no basis for an estimate (the ledger has no measured build of this target yet)'];
  }
  const of =
    `${basis.builds} recorded build${basis.builds === 1 ? '' : 's'} of this target` +
    (basis.sameJob ? '' : ' by another job definition');
  return [
    `estimate: INSERTs ≈ ${e.insertMs < 10_000 ? `${(e.insertMs / 1000).toFixed(1)}s` : formatDuration(e.insertMs)} for ${count(e.rows)} source rows at ` +
      `${count(basis.rowsPerSecond)} rows/s, parallelism ${e.parallelism} (measured over ${of}); ` +
      'the other steps of each partition come on top',
    e.memory
      ? `          peak memory ≈ ${formatBytes(e.memory.bytes)} per INSERT for the largest partition ` +
        `(${count(e.largestRows)} rows), scaled from ${formatBytes(e.memory.measuredBytes)} measured at ` +
        `${count(e.memory.measuredRows)} rows`
      : '          peak memory: no basis for an estimate (no recorded build has a measured peak: a server ' +
        'records it in system.query_log, the embedded engine keeps no query log)',
  ];
}

/**
 * An aggregate job's plan as a person reads it: the tables and the ledger, a line per partition of the range (source
 * rows and bytes, target rows, salt, the action it gets, what the ledger says), which partitions each mode would
 * take, the estimate, then every statement in the order a run sends it. `held` names the job writing a partition
 * now (by partition id): a partition the run would take is then `blocked`.
 */
export function formatBackfillDescription(
  file: string,
  input: BackfillInput,
  d: BackfillDescription,
  held: Map<string, string>,
): string {
  const rows = d.partitions.map((p) => {
    const holder = p.taken ? held.get(p.id) : undefined;
    return [
      p.id,
      count(p.sourceRows),
      p.sourceBytes === undefined ? '?' : formatBytes(p.sourceBytes),
      count(p.targetRows),
      String(p.salt),
      holder ? `blocked: held by ${holder}` : p.action,
      p.change.changed ? `changed: ${p.change.reason}` : p.change.reason,
    ];
  });
  const modes = ONLY_MODES.flatMap((mode) => {
    const ids = d.modes[mode];
    return ids ? [`${mode}: ${ids.length === 0 ? 'none' : ids.join(' ')}`] : [];
  });
  const taken = d.partitions.filter((p) => p.taken).length;
  return [
    `plan of ${file}, ${input.from} … ${input.to}, only ${d.only}: nothing was created or changed`,
    `server: ${serverProfileLine(d.server)}`,
    ...(d.shardingStated ? [d.shardingStated] : []),
    `source ${qualifiedName(d.source)} → target ${qualifiedName(d.target)} (${d.targetExists ? 'exists' : 'to create'}); ` +
      `ledger ${qualifiedName(d.ledger)}; job definition ${d.jobHash}`,
    ...(d.fingerprints
      ? []
      : ['the source is not a MergeTree table: it has no fingerprint, so every partition is changed']),
    '',
    d.partitions.length === 0
      ? 'no partition of the range has source or target rows'
      : textTable(['partition', 'source rows', 'source bytes', 'target rows', 'salt', 'action', 'ledger'], rows, 5),
    '',
    `${taken} of ${d.partitions.length} partitions taken; each mode would take: ${modes.join('; ')}`,
    ...formatEstimate(d.estimate),
    '',
    `shadows and the backup are named with ${DESCRIBED_WRITER_TAG}, where a run puts its writer tag (8 hex digits of ` +
      'its ids); reads of system tables (row counts from part metadata, table info) are not listed',
    ...formatStatements(d.statements),
  ].join('\n');
}
