import type { PlannedStatement } from '../../shared/backfill-description';
import { viewRestateStatements, type RestatingTask } from './restate-steps';

/**
 * One restated partition's statements as its steps send them, in order (validation's totals, the row-count reads
 * and the ledger record left out): prepare, the fill from the view's stored query, the backup when the live
 * partition had rows, the swap (REPLACE, or DROP PARTITION when the source has no rows), the cleanup.
 */
export function describedRestatePartition(task: RestatingTask): PlannedStatement[] {
  const s = viewRestateStatements(task);
  const { partition } = task;
  const at = (step: string) => `partition ${partition.id}: ${step}`;
  const ddl = s.ddlSettings ? { settings: s.ddlSettings } : {};
  const swap = [...s.beforeSwap, ...(partition.sourceRows > 0 ? s.replace : partition.targetRows > 0 ? [s.empty] : [])];
  return [
    ...s.prepare.map((st) => ({ step: at('prepare'), ...st, ...ddl })),
    ...s.truncate.map((st) => ({ step: at('fill'), ...st })),
    { step: at('fill'), ...s.insert, settings: task.job.insertSettings as Record<string, number> },
    ...s.afterFill.map((st) => ({ step: at('fill'), ...st })),
    ...(task.backup && partition.targetRows > 0 ? s.backup.map((st) => ({ step: at('backup'), ...st })) : []),
    ...swap.map((st) => ({ step: at('swap'), ...st })),
    ...s.cleanup.map((st) => ({ step: at('cleanup'), ...st, ...ddl })),
  ];
}
