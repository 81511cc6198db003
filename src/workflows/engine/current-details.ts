import type { BackfillProgress } from '../../shared/progress';

const count = (n: number) => n.toLocaleString('en-US');

/**
 * Where a job stands in one line, for the Web UI's "current details" (`setCurrentDetails`): its phase, the
 * partitions swapped of the total, then only what is non-zero (building, waiting for another job, awaiting
 * approval, failed) and why it is paused, e.g.
 * `running · 1,203 of 3,650 swapped · 4 building · 2 awaiting approval · paused for load: parts 310 > 300`.
 */
export function currentDetailsOf(progress: BackfillProgress): string {
  let building = 0;
  let awaiting = 0;
  let waiting = 0;
  for (const p of progress.partitions) {
    if (p.state === 'waiting') waiting++;
    else if (p.step === 'awaiting-approval') awaiting++;
    else if (p.state === 'running' || p.state === 'validated') building++;
  }
  const { manual, load } = progress.pause ?? {};
  return [
    progress.phase,
    `${count(progress.done)} of ${count(progress.total)} swapped`,
    ...(building > 0 ? [`${count(building)} building`] : []),
    ...(waiting > 0 ? [`${count(waiting)} waiting for another job`] : []),
    ...(awaiting > 0 ? [`${count(awaiting)} awaiting approval`] : []),
    ...(progress.failed > 0 ? [`${count(progress.failed)} failed`] : []),
    ...(manual !== undefined ? [`paused by an operator: ${manual}`] : []),
    ...(load !== undefined ? [`paused for load: ${load}`] : []),
  ].join(' · ');
}
