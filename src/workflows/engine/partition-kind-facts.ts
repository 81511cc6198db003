import type { PartitionTask } from '../../shared/partition-task';
import { byPartitionKind } from '../../shared/partition-kind';

/** What the partition workflow needs to know of a task's kind; everything else is in the kind's steps. */
export interface PartitionKindFacts {
  /** How the swap step reads in the Web UI: `swap` (replace) or `move` (append). */
  swapVerb: 'swap' | 'move';
  /** The swap moves the view targets' duplicates too. */
  movesViewTargets: boolean;
  /**
   * A failure once the swap began keeps the duplicates: some live tables may already hold the batch, and what the
   * others lack is still in their duplicates (a retried move would finish it).
   */
  keepsDuplicatesOnFailure: boolean;
}

/** The workflow side's facts of `task`'s kind (see `byPartitionKind`, the one place that tells the kind). */
export function partitionKindFacts(task: PartitionTask): PartitionKindFacts {
  return byPartitionKind<PartitionKindFacts>(task, {
    aggregate: () => ({ swapVerb: 'swap', movesViewTargets: false, keepsDuplicatesOnFailure: false }),
    view: () => ({ swapVerb: 'move', movesViewTargets: false, keepsDuplicatesOnFailure: false }),
    import: () => ({ swapVerb: 'move', movesViewTargets: true, keepsDuplicatesOnFailure: true }),
    viewRestate: () => ({ swapVerb: 'swap', movesViewTargets: false, keepsDuplicatesOnFailure: false }),
  });
}
