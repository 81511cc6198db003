import type { ClickHouse } from '../../clickhouse/clickhouse';
import { qualifiedName, type TableRef } from '../../shared/table-ref';
import { selectDependentViews } from '../../sql/import/import';
import { JobSpecError } from '../engine/errors';

/**
 * Refuses an existing target that feeds a further materialized view (a chain, A_target → B): the backfill's
 * partitions reach the target by `MOVE PARTITION`, which feeds no view, and B is live with no cutoff of this job,
 * so B's target would miss the history. (A view job reading a view target is fine: its cutoff is on that table's
 * time column.)
 */
export async function refuseChainedTarget(ch: ClickHouse, target: TableRef): Promise<void> {
  const chained = (await ch.rows(selectDependentViews(target))).filter((v) => v.engine === 'MaterializedView');
  if (chained.length === 0) return;
  throw new JobSpecError(
    'target.table',
    `${qualifiedName(target)} feeds materialized view ${chained.map(qualifiedName).join(', ')} (a chain): the ` +
      'backfilled partitions are moved in, which feeds no view, and no cutoff can be placed on that live view, so ' +
      'its target would miss the history',
  );
}
