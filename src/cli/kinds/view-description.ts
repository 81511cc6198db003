import { serverProfileLine } from '../../shared/server-profile-line';
import type { ServerProfile } from '../../shared/server-profile';
import type { ViewJob } from '../../shared/job-spec';
import { DESCRIBED_WRITER_TAG, type ViewDescription } from '../../shared/view-input';
import { qualifiedName } from '../../shared/table-ref';
import type { DescribedStatement } from '../../shared/described-statement';
import { isoOfEpochSeconds } from '../../shared/epoch-seconds';

/**
 * A view job's dry run as a person reads it: the tables, the cutoff, the partitions to fill, then every statement
 * in the order a run sends it, each ending in `;`, with its parameters and settings as `--` lines after it.
 */
export function formatViewDescription(file: string, job: ViewJob, d: ViewDescription): string {
  const { plan } = d;
  const exists = (yes: boolean) => (yes ? 'exists' : 'to create');
  const cutoff =
    job.cutoff === 'auto'
      ? `${isoOfEpochSeconds(plan.cutoff)} if started now (auto: ${job.cutoffMarginSeconds} s after the run plans)`
      : isoOfEpochSeconds(plan.cutoff);
  const lines = [
    `dry run of ${file}: nothing was created or changed`,
    ...serverLine(plan.server),
    `source ${qualifiedName(plan.source)} → view ${qualifiedName(plan.view)} (${exists(plan.viewExisted)}) → ` +
      `target ${qualifiedName(plan.target)} (${exists(plan.targetExisted)})`,
    `cutoff ${cutoff}: the view writes the rows from it on, the backfill the rows before it`,
    `partitions with the view's output rows before the cutoff so far: ${
      d.partitions.map((p) => `${p.id} (${p.sourceRows.toLocaleString('en-US')} rows)`).join(', ') || 'none'
    }`,
    `shadows are named <target>_v2_<partition>_${DESCRIBED_WRITER_TAG}: a run's tag is 8 hex digits of its ids`,
    ...(d.validation ? [`validation compares, per partition: ${d.validation}`] : []),
  ];
  return [...lines, ...formatStatements(d.statements)].join('\n');
}

/** The `server:` line of a dry run (none for a plan from a worker that predates profiles). */
export function serverLine(server: ServerProfile | undefined): string[] {
  return server ? [`server: ${serverProfileLine(server)}`] : [];
}

/**
 * Statements as a dry run prints them, in order: each after a blank line and a `-- <step>` line, ending in `;`,
 * with its parameters, settings and note as `--` lines after it.
 */
export function formatStatements(statements: (DescribedStatement & { note?: string })[]): string[] {
  const lines: string[] = [];
  for (const st of statements) {
    lines.push('', `-- ${st.step}`, `${st.query};`);
    if (Object.keys(st.params).length > 0) lines.push(`-- params: ${JSON.stringify(st.params)}`);
    if (st.settings && Object.keys(st.settings).length > 0) lines.push(`-- settings: ${JSON.stringify(st.settings)}`);
    if (st.note) lines.push(`-- ${st.note}`);
  }
  return lines;
}
