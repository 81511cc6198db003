/** The engine families a job names by their name alone (a Shared/Replicated variant of an existing target counts). */
const NAMED_ALONE = ['SummingMergeTree', 'AggregatingMergeTree', 'MergeTree', 'ReplacingMergeTree'] as const;

/** The engine families a view job's target may be of: those named alone, and a collapsing one with its sign. */
export type ViewTargetFamily = (typeof NAMED_ALONE)[number] | 'CollapsingMergeTree';

const FAMILY_OF: ReadonlyMap<string, ViewTargetFamily> = new Map(NAMED_ALONE.map((f) => [f, f]));

/** `CollapsingMergeTree(<sign column>)`, how a job names a collapsing target: the sign column a plain name. */
export const COLLAPSING_ENGINE = /^CollapsingMergeTree\(([A-Za-z_][A-Za-z0-9_]*)\)$/;

/**
 * A view target's engine as the job names it (`SummingMergeTree`, …, `CollapsingMergeTree(sign)`): its family and,
 * for a collapsing target, the sign column.
 */
export function viewTargetEngine(spec: string): { family: ViewTargetFamily; sign?: string } {
  const collapsing = COLLAPSING_ENGINE.exec(spec);
  if (collapsing) return { family: 'CollapsingMergeTree', sign: collapsing[1] };
  const family = FAMILY_OF.get(spec);
  if (family === undefined) throw new Error(`not a view target engine: ${JSON.stringify(spec)}`);
  return { family };
}
