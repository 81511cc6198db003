import type { ViewRestatePlan } from '../../shared/view-restate-input';
import { qualifiedName } from '../../shared/table-ref';
import { renderExpression } from '../../sql/engine/expression';
import { comparisonText } from '../../sql/view/view-sql';

/**
 * The text of a view restate's plan: the view, its target, what validation compares, each partition, and which
 * of them wait for the operator's confirm.
 */
export function formatViewRestateDescription(file: string, plan: ViewRestatePlan): string {
  const by = plan.build.partitionBy;
  const after = new Set(plan.afterConfirm);
  return [
    `${file}: restate ${qualifiedName(plan.target)} from view ${qualifiedName(plan.view)}`,
    `  source      ${qualifiedName(plan.source)}`,
    `  query       the view's stored query (system.tables.as_select)${by ? `, filtered by ${by.fn}(${by.column})` : ''}`,
    `  validation  ${plan.build.engine} target: ${comparisonText(plan.build.engine)}`,
    `  swap        REPLACE PARTITION after the shrink guard; the live partition kept for rollback`,
    ...chainLines(plan),
    plan.build.sourceDay
      ? `  ledger      source fingerprint of the rows by ${renderExpression(plan.build.sourceDay)} (for --only changed)` +
        ((plan.chain ?? []).length > 0 ? `, in the row of ${qualifiedName(plan.target)} for every level` : '')
      : `  ledger      no source fingerprint: ${plan.noFingerprint ?? 'the plan found none'} (--only changed restates every partition)`,
    ...(plan.unchanged
      ? [
          `  unchanged   ${plan.unchanged.count} ${plan.unchanged.count === 1 ? 'partition' : 'partitions'} unchanged ` +
            `since ${plan.unchanged.since}: ${plan.unchanged.rows.map((r) => r.partition).join(', ')}` +
            (plan.partitions.length === 0 ? ': nothing to do' : ''),
        ]
      : []),
    `  partitions  ${plan.partitions.length}`,
    ...plan.partitions.map(
      (p) =>
        `    ${p.id}  view output ${p.sourceRows.toLocaleString('en-US')} rows, live ${p.targetRows.toLocaleString('en-US')} rows` +
        (plan.chain ?? [])
          .map((l) => `; ${qualifiedName(l.target)} live ${(l.targetRows[p.id] ?? 0).toLocaleString('en-US')} rows`)
          .join('') +
        (after.has(p.id) ? '  (after confirm)' : ''),
    ),
    ...(after.size > 0
      ? [
          `  confirm     the live view can still write into ${[...after].join(', ')}: a run restates the other ` +
            `partitions first, then waits for ch-backfill confirm <id> once ingestion into ${qualifiedName(plan.source)} ` +
            'is paused, restates those, and says when ingestion may resume',
        ]
      : []),
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
