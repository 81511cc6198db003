import { partitionKindFacts } from './partition-kind-facts';
import type { PartitionStep } from '../../shared/backfill-results';
import { formatCheckpoint } from '../../shared/import-batch-task';
import { qualifiedName } from '../../shared/table-ref';
import type { PartitionTask } from '../../shared/partition-task';

/** What the build of `task` does, in a few words: `salt 3`, `day 2024-01-05 · salt 1`, `from <backup>`. */
function buildWords(task: PartitionTask): string {
  const { build, partition } = task;
  switch (build.kind) {
    case 'rebuild':
      return `salt ${partition.salt}`;
    case 'day':
      return `day ${build.day} · salt ${partition.salt}`;
    case 'restore':
      return build.rows > 0 ? `restore from ${qualifiedName(build.from)}` : 'restore: empty it';
    case 'view-fill':
      return build.cutoff === undefined
        ? `view rows of ${qualifiedName(task.source)}`
        : `view rows before ${new Date(build.cutoff * 1000).toISOString()}`;
    case 'import-batch':
      return `history before ${formatCheckpoint(build.checkpoint)} · ${task.partition.sourceRows} rows`;
    case 'view-restate':
      return `the view's stored query over ${qualifiedName(task.source)}`;
  }
}

/**
 * The one-line summary of one step of a partition, shown by the Temporal Web UI in the workflow's timeline and
 * event list so it reads like `status` without opening payloads: `insert 202401 · salt 3`, `swap 202401 into
 * analytics.events_daily`.
 */
export function stepSummary(task: PartitionTask, step: PartitionStep): string {
  const id = task.partition.id;
  switch (step) {
    case 'prepare':
      return `prepare shadow ${qualifiedName(task.shadow)}`;
    case 'insert':
      return `insert ${id} · ${buildWords(task)}`;
    case 'validate':
      return `validate ${id} against ${task.build.kind === 'restore' ? 'its backup' : qualifiedName(task.source)}`;
    case 'backup':
      return `backup ${id} into ${task.backup ? qualifiedName(task.backup) : '(none)'}`;
    case 'swap': {
      const { swapVerb, movesViewTargets } = partitionKindFacts(task);
      return `${swapVerb} ${id} into ${qualifiedName(task.target)}${movesViewTargets ? ' and its view targets' : ''}`;
    }
    case 'cleanup':
      return `drop shadow ${qualifiedName(task.shadow)}`;
  }
}

/**
 * The summary of the one activity that prepares, builds and validates the shadow: its three steps' summaries, so
 * the Web UI's event list still names each (`prepare shadow …; insert 202401 · salt 3; validate 202401 against …`).
 */
export function buildStepsSummary(task: PartitionTask): string {
  return (['prepare', 'insert', 'validate'] as const).map((step) => stepSummary(task, step)).join('; ');
}

/**
 * The static summary and details of a partition workflow, for the Web UI's workflow list and its header: which
 * partition of which table, and how it is built.
 */
export function partitionWorkflowSummary(task: PartitionTask): { staticSummary: string; staticDetails: string } {
  return {
    staticSummary: `${task.build.kind} ${qualifiedName(task.target)} partition ${task.partition.id} · ${buildWords(task)}`,
    staticDetails: [
      `**target** ${qualifiedName(task.target)}, partition ${task.partition.id}`,
      `**source** ${qualifiedName(task.source)} (${task.partition.sourceRows} rows)`,
      `**job** ${task.job.kind}${task.job.name ? ` ${task.job.name}` : ''}, build ${task.build.kind}`,
      `**shadow** ${qualifiedName(task.shadow)}`,
      ...(task.backup ? [`**backup** ${qualifiedName(task.backup)}`] : []),
    ].join('\n\n'),
  };
}
