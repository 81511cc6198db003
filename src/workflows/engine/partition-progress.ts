import type { StepReport } from '../../shared/messages';
import type { PartitionProgress } from '../../shared/progress';

/** Applies a partition workflow's step report to its entry in the parent's progress (late reports are ignored). */
export function applyStepReport(entry: PartitionProgress | undefined, { step, at, shrink }: StepReport): void {
  if (!entry || (entry.state !== 'running' && entry.state !== 'validated')) return;
  entry.step = step;
  entry.stepStartedAt = at;
  entry.shrink = shrink;
  if (step === 'swap') entry.state = 'validated';
}
