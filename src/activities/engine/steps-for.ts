import type {
  AggregatePartitionTask,
  ImportPartitionTask,
  PartitionTask,
  ViewPartitionTask,
  ViewRestatePartitionTask,
} from '../../shared/partition-task';
import { byPartitionKind } from '../../shared/partition-kind';
import type { SwapContext } from './ledger';
import type { BackupResult, StepTiming, SwapResult, ValidateResult } from './step-runner';
import type { BuildOptions, BuildOutcome, KindSteps } from './kind-steps';

/** Every kind's steps, as the worker builds them around its dependencies. */
export interface StepsByKind {
  aggregate: KindSteps<AggregatePartitionTask>;
  view: KindSteps<ViewPartitionTask>;
  import: KindSteps<ImportPartitionTask>;
  viewRestate: KindSteps<ViewRestatePartitionTask>;
}

/** One task's steps, bound to it. */
export interface TaskSteps {
  prepare(): Promise<StepTiming>;
  build(options: BuildOptions): Promise<BuildOutcome>;
  validate(): Promise<ValidateResult>;
  /** Absent for kinds that keep no backup. */
  backup?(): Promise<BackupResult>;
  swap(context?: SwapContext): Promise<SwapResult>;
  drop(): Promise<StepTiming>;
}

function bound<T extends PartitionTask>(steps: KindSteps<T>, task: T): TaskSteps {
  const backup = steps.backup;
  return {
    prepare: () => steps.prepare(task),
    build: (options) => steps.build(task, options),
    validate: () => steps.validate(task),
    backup: backup && (() => backup(task)),
    swap: (context) => steps.swap(task, context),
    drop: () => steps.drop(task),
  };
}

/** The steps of `task`'s kind (see `byPartitionKind`, the one place that tells the kind), bound to the task. */
export function stepsFor(kinds: StepsByKind, task: PartitionTask): TaskSteps {
  return byPartitionKind(task, {
    aggregate: (t) => bound(kinds.aggregate, t),
    view: (t) => bound(kinds.view, t),
    import: (t) => bound(kinds.import, t),
    viewRestate: (t) => bound(kinds.viewRestate, t),
  });
}
