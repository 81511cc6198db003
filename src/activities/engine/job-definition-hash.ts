import { createHash } from 'node:crypto';
import type { AggregateJob } from '../../shared/job-spec';
import { aggregationShape } from '../../sql/aggregate/aggregation-shape';
import { renderAggregate, renderExpression } from '../../sql/engine/expression';
import { qualifiedName, type TableRef } from '../../shared/table-ref';

/** JSON with every object's keys in sorted order, so equal definitions give equal text. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/**
 * The hash of what decides a target partition's rows: the resolved source table, the keys (in order: they are the
 * output's first columns), the partitioning, the date column and expression, and each metric, with expressions as
 * the grammar re-renders them (so `count( )` and `count()` are the same job). Settings that only shape how a run
 * goes (parallelism, chunk size, insert settings, validation, load, safety, daily) are left out: changing them
 * rebuilds nothing. 16 hex digits of SHA-256.
 */
export function jobDefinitionHash(job: AggregateJob, source: TableRef): string {
  const shape = aggregationShape(job);
  const definition = {
    version: 1,
    source: qualifiedName(source),
    keys: shape.keys,
    partitionBy: shape.granularity,
    date: { column: shape.dateColumn, expression: renderExpression(shape.dateExpr) },
    metrics: Object.fromEntries(shape.metrics.map((m) => [m.name, renderAggregate(m.metric)])),
  };
  return createHash('sha256').update(canonicalJson(definition)).digest('hex').slice(0, 16);
}
