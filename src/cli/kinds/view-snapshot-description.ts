import type { SnapshotDescription } from '../../shared/snapshot-input';
import { DESCRIBED_WRITER_TAG } from '../../shared/view-input';
import { formatStatements, serverLine } from './view-description';
import { qualifiedName } from '../../shared/table-ref';

const rows = (n: number): string => `${n.toLocaleString('en-US')} rows`;

/**
 * A `cutoff: snapshot` view job's dry run as a person reads it: the tables, the operator's part (pause inserts,
 * confirm, resume), the source partitions the snapshot attaches and the target partitions it fills, then every
 * statement in the order a run confirmed now sends it (see {@link formatStatements}).
 */
export function formatSnapshotDescription(file: string, d: SnapshotDescription): string {
  const { plan } = d;
  const list = (ps: { id: string; n: number }[]) => ps.map((p) => `${p.id} (${rows(p.n)})`).join(', ') || 'none';
  return [
    `dry run of ${file}: nothing was created or changed`,
    ...serverLine(plan.server),
    `source ${qualifiedName(plan.source)} → snapshot ${qualifiedName(plan.snapshot)} → view ${qualifiedName(plan.view)} (to create) → ` +
      `target ${qualifiedName(plan.target)} (${plan.targetExisted ? 'exists, empty' : 'to create'})`,
    `a run waits for ch-backfill confirm <id> once inserts into ${qualifiedName(plan.source)} are paused, takes the ` +
      'snapshot and creates the view, then says inserts may resume and fills the target from the snapshot',
    `source partitions the snapshot attaches now: ${list(d.sourcePartitions.map((p) => ({ id: p.id, n: p.rows })))}`,
    `target partitions to fill from it, with the view's output rows: ${list(d.partitions.map((p) => ({ id: p.id, n: p.sourceRows })))}`,
    `the snapshot and shadows are named with ${DESCRIBED_WRITER_TAG}: a run's tag is 8 hex digits of its ids`,
    ...formatStatements(d.statements),
  ].join('\n');
}
