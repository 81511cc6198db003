import type { ViewRestatePlan } from '../../shared/view-restate-input';
import { qualifiedName } from '../../shared/table-ref';
import { comparisonText } from '../../sql/view/view-sql';

/** The text of a view restate's plan: the view, its target, what validation compares, and each partition. */
export function formatViewRestateDescription(file: string, plan: ViewRestatePlan): string {
  const by = plan.build.partitionBy;
  return [
    `${file}: restate ${qualifiedName(plan.target)} from view ${qualifiedName(plan.view)}`,
    `  source      ${qualifiedName(plan.source)}`,
    `  query       the view's stored query (system.tables.as_select)${by ? `, filtered by ${by.fn}(${by.column})` : ''}`,
    `  validation  ${plan.build.engine} target: ${comparisonText(plan.build.engine)}`,
    `  swap        REPLACE PARTITION after the shrink guard; the live partition kept for rollback`,
    ...chainLines(plan),
    `  partitions  ${plan.partitions.length}`,
    ...plan.partitions.map(
      (p) =>
        `    ${p.id}  view output ${p.sourceRows.toLocaleString('en-US')} rows, live ${p.targetRows.toLocaleString('en-US')} rows` +
        (plan.chain ?? [])
          .map((l) => `; ${qualifiedName(l.target)} live ${(l.targetRows[p.id] ?? 0).toLocaleString('en-US')} rows`)
          .join(''),
    ),
  ].join('\n');
}

/** A chain's levels, each rebuilt from the shadow of the level it reads, and the order of the swaps. */
function chainLines(plan: ViewRestatePlan): string[] {
  const chain = plan.chain ?? [];
  if (chain.length === 0) return [];
  return [
    `  chain       ${chain.length} level(s) fed from ${qualifiedName(plan.target)}, each partition rebuilt with it:`,
    ...chain.map(
      ({ build: b, target }) =>
        `    ${qualifiedName(b.view)} → ${qualifiedName(target)}: its stored query over the shadow of ` +
        `${qualifiedName(b.reads)}; ${b.engine} target: ${comparisonText(b.engine)}`,
    ),
    `  order       swapped deepest first: ${[...chain.map((l) => qualifiedName(l.target)).reverse(), qualifiedName(plan.target)].join(', then ')}`,
  ];
}
