import { SingleBar, Presets } from 'cli-progress';
import type { WorkflowHandle } from '@temporalio/client';
import { type BackfillProgress, type FilesProgress, type PartitionProgress } from '../shared/progress';
import { partitionGrid } from './partition-grid';
import { ingestionPhrase } from './restate-ingestion-status';
import { snapshotLines, snapshotPhrase } from './snapshot-status';
import { progressQuery } from '../shared/messages';
import { latestProgress } from './latest-progress';

const POLL_MS = 500;

const count = (n: number) => n.toLocaleString('en-US');

/** `1h 02m 03s` style; undefined when unknown. */
export function formatDuration(ms: number | undefined): string {
  if (ms === undefined) return 'unknown';
  const s = Math.round(ms / 1000);
  const [h, m, sec] = [Math.floor(s / 3600), Math.floor((s % 3600) / 60), s % 60];
  return h ? `${h}h ${String(m).padStart(2, '0')}m` : m ? `${m}m ${String(sec).padStart(2, '0')}s` : `${sec}s`;
}

/** The pause reasons of a progress, one phrase, or '' when running. */
export function pauseReason(p: BackfillProgress): string {
  const reasons = [p.pause?.manual && `by operator: ${p.pause.manual}`, p.pause?.load && `for load: ${p.pause.load}`];
  return reasons.filter(Boolean).join('; ');
}

/** What one partition is doing, in a few words: its step, whom it waits for, or the shrink awaiting approval. */
export function describePartitionActivity(x: PartitionProgress): string | undefined {
  if (x.state === 'waiting') return `${x.id} waiting for ${x.waitingFor ?? 'another writer'}`;
  if (x.step === 'awaiting-approval' && x.shrink) {
    return `${x.id} awaiting approval: ${count(x.shrink.liveRows)} → ${count(x.shrink.newRows)} rows (approve or reject)`;
  }
  return x.step && `${x.id} ${x.step}`;
}

/** What a finished partition's result says, e.g. `source empty, 199,503 rows removed`. */
export function describeResult(x: PartitionProgress): string {
  const r = x.result;
  if (!r) return '';
  if (r.emptied) return `, source empty, ${count(r.rowsBefore)} rows removed`;
  return `, ${count(r.rowsRead)} → ${count(r.rowsWritten)} rows`;
}

/** Bytes as B, KiB, MiB or GiB. */
export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return `${i === 0 ? n : n.toFixed(1)} ${units[i]}`;
}

/** An import from files: `files 12/40 (1.2 GiB/4.0 GiB)`. */
export const filesDone = (f: FilesProgress): string =>
  `files ${count(f.filesDone)}/${count(f.files)} (${formatBytes(f.bytesDone)}/${formatBytes(f.bytes)})`;

/** The lines of an import from files: done of the total, then each running batch's files. */
export function filesLines(f: FilesProgress): string[] {
  return [
    `${filesDone(f)} loaded`,
    ...f.current.map(
      (b) =>
        `  batch ${b.batch}: ${count(b.files)} files, ${formatBytes(b.bytes)}: ` +
        (b.files === 1 ? b.first : `${b.first} … ${b.last}`),
    ),
  ];
}

/**
 * The one-line status next to the bar: phase, current steps, rate, ETA and the pause reason (and what a snapshot
 * job or a restate awaiting a confirm asks of the operator: the confirm command names `workflowId`).
 */
export function describeProgress(p: BackfillProgress, workflowId: string): string {
  const current = p.partitions.flatMap((x) => describePartitionActivity(x) ?? []);
  return [
    p.phase === 'waiting' && p.cutoff ? `waiting for the cutoff ${p.cutoff}` : p.phase,
    p.snapshot ? snapshotPhrase(workflowId, p.snapshot) : '',
    p.ingestion ? ingestionPhrase(workflowId, p.ingestion) : '',
    pauseReason(p),
    current.join(', '),
    p.files ? filesDone(p.files) : '',
    `${count(p.rowsPerSecond)} rows/s`,
    p.phase === 'running' ? `ETA ${formatDuration(p.etaMs)}` : '',
    p.failed ? `${p.failed} failed` : '',
  ]
    .filter(Boolean)
    .join(' | ');
}

/** A full status report: the overall line, then one line per partition that is not pending. */
export function formatProgress(workflowId: string, p: BackfillProgress): string {
  const pending = p.partitions.filter((x) => x.state === 'pending').length;
  const lines = [
    `${workflowId} → ${p.target ?? '?'}: ${p.phase}${pauseReason(p) ? ` (${pauseReason(p)})` : ''}`,
    ...(p.cutoff ? [`cutoff ${p.cutoff}: the view writes the rows from it on, the backfill the rows before it`] : []),
    ...(p.snapshot ? snapshotLines(workflowId, p.snapshot) : []),
    ...(p.ingestion ? [ingestionPhrase(workflowId, p.ingestion)] : []),
    ...(p.checkpoint
      ? [`checkpoint ${p.checkpoint}: the history before it is loaded, ingestion writes the rows from it on`]
      : []),
    ...(p.files ? filesLines(p.files) : []),
    `partitions: ${p.done} swapped, ${p.failed} failed, ${pending} pending of ${p.total}; parallelism ${p.parallelism}`,
    ...(p.backup && p.partitions.some((x) => (x.result?.backupRows ?? 0) > 0)
      ? [`the partitions replaced are kept in ${p.backup} (for rollback)`]
      : []),
    `rows: ${count(p.rowsRead)} read, ${count(p.rowsWritten)} written; ${count(p.rowsPerSecond)} rows/s; ` +
      `ETA ${formatDuration(p.etaMs)}`,
    ...(p.lastLoadReason ? [`last load pause: ${p.lastLoadReason}`] : []),
    ...(p.continuedAsNew ? [`continued as new ${p.continuedAsNew} times`] : []),
  ];
  // A long backfill lists only the partitions worth a line (under way, failed, emptied); the grid shows the rest.
  const started = p.partitions.filter((y) => y.state !== 'pending');
  const listed = started.length <= LIST_ALL_UP_TO ? started : started.filter(worthALine);
  if (listed.length < started.length) {
    lines.push(`  (${started.length - listed.length} swapped partitions not listed: see the grid)`);
  }
  for (const x of listed) {
    const took = x.startedAt && x.finishedAt ? `, ${formatDuration(x.finishedAt - x.startedAt)}` : '';
    const activity = describePartitionActivity(x)?.slice(x.id.length + 1);
    const what = activity ? `${x.state} (${activity})` : x.state;
    lines.push(`  ${x.id}  ${what}  salt ${x.salt}${describeResult(x)}${took}${x.error ? `: ${x.error}` : ''}`);
  }
  return lines.join('\n');
}

/** Up to this many started partitions, `status` lists every one; beyond, only those {@link worthALine}. */
const LIST_ALL_UP_TO = 36;

const worthALine = (x: PartitionProgress): boolean => x.state !== 'swapped' || x.result?.emptied === true;

/**
 * Follows a backfill until `until` settles, for `status --watch`: on a terminal the screen is redrawn every poll
 * with the partition grid above the status line, like watch(1); otherwise each new status line is printed once.
 * Ends with the full status (grid, overall lines, partitions).
 */
export async function watchProgress(handle: WorkflowHandle, until: Promise<unknown>, tty: boolean): Promise<void> {
  let settled = false;
  void until.finally(() => (settled = true)).catch(() => undefined);
  let last = '';
  while (!settled) {
    const p = await latestProgress(handle).catch(() => undefined);
    if (p) {
      const line = describeProgress(p, handle.workflowId);
      if (tty) process.stdout.write(`\x1b[H\x1b[J${partitionGrid(p.partitions, true)}\n\n${line}\n`);
      else if (line !== last) console.log(line);
      last = line;
    }
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
  const p = await handle.query(progressQuery);
  console.log([partitionGrid(p.partitions, tty), formatProgress(handle.workflowId, p)].filter(Boolean).join('\n'));
}

/**
 * Shows a live progress bar of a running backfill (partitions done / total, rows/s, ETA, current steps, pause
 * reason) by polling its `progress` query, until `until` settles. Query errors while the workflow starts are
 * ignored.
 */
export async function showProgress(handle: WorkflowHandle, until: Promise<unknown>): Promise<void> {
  const bar = new SingleBar(
    {
      format: ' {bar} {value}/{total} partitions | {status}',
      hideCursor: true,
      noTTYOutput: true,
      notTTYSchedule: 5000,
    },
    Presets.shades_classic,
  );
  bar.start(1, 0, { status: 'starting' });
  let settled = false;
  void until.finally(() => (settled = true)).catch(() => undefined);
  const poll = async () => {
    try {
      const p = await latestProgress(handle);
      bar.setTotal(Math.max(p.total, 1));
      bar.update(p.done + p.failed, { status: describeProgress(p, handle.workflowId) });
    } catch {
      // The workflow may not have started its first task yet.
    }
  };
  while (!settled) {
    await poll();
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
  await poll();
  bar.stop();
}
