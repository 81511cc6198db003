/** The engine families a view job's target may be of (a Shared/Replicated variant of an existing one counts as its family). */
export const VIEW_TARGET_FAMILIES = [
  'SummingMergeTree',
  'AggregatingMergeTree',
  'MergeTree',
  'ReplacingMergeTree',
  'CollapsingMergeTree',
] as const;

export type ViewTargetFamily = (typeof VIEW_TARGET_FAMILIES)[number];

/** `CollapsingMergeTree(<sign column>)`, how a job names a collapsing target: the sign column a plain name. */
export const COLLAPSING_ENGINE = /^CollapsingMergeTree\(([A-Za-z_][A-Za-z0-9_]*)\)$/;

/**
 * A view target's engine as the job names it (`SummingMergeTree`, …, `CollapsingMergeTree(sign)`): its family and,
 * for a collapsing target, the sign column.
 */
export function viewTargetEngine(spec: string): { family: ViewTargetFamily; sign?: string } {
  const collapsing = COLLAPSING_ENGINE.exec(spec);
  if (collapsing) return { family: 'CollapsingMergeTree', sign: collapsing[1] };
  const family = VIEW_TARGET_FAMILIES.find((f) => f === spec && f !== 'CollapsingMergeTree');
  if (family === undefined) throw new Error(`not a view target engine: ${JSON.stringify(spec)}`);
  return { family };
}
