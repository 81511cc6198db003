import type { AggregateJob, PartitionGranularity } from '../../shared/job-spec';
import { parseAggregateMetric, parseExpression, type AggregateMetric, type Expr } from '../../shared/expression-syntax';

/** A job's aggregation, parsed: what every statement about it is rendered from. */
export interface AggregationShape {
  keys: string[];
  dateColumn: string;
  dateExpr: Expr;
  metrics: { name: string; metric: AggregateMetric }[];
  granularity: PartitionGranularity;
}

/** Parses the job's date expression and metrics; throws the parser's error for the first bad one. */
export function aggregationShape(job: AggregateJob): AggregationShape {
  return {
    keys: job.keys,
    dateColumn: job.date.column,
    dateExpr: parseExpression(job.date.expression),
    metrics: Object.entries(job.metrics).map(([name, text]) => ({ name, metric: parseAggregateMetric(text) })),
    granularity: job.partitionBy,
  };
}

/** The function that turns the date into the target's partition ID (an allow-listed literal). */
export function partitionFunction(granularity: PartitionGranularity): 'toYYYYMM' | 'toYYYYMMDD' {
  return granularity === 'month' ? 'toYYYYMM' : 'toYYYYMMDD';
}

/** The output columns in table order: keys, date, metrics. */
export function outputColumns(shape: AggregationShape): string[] {
  return [...shape.keys, shape.dateColumn, ...shape.metrics.map((m) => m.name)];
}

/** The metric that counts source rows (`count()`), used to prove no row was lost or doubled. */
export function rowCountMetric(shape: AggregationShape): string | undefined {
  return shape.metrics.find(
    (m) => m.metric.fn === 'count' && m.metric.args.length === 0 && m.metric.params.length === 0,
  )?.name;
}

/** Metrics whose sum over output rows equals the same aggregate over the source rows. */
export function additiveMetrics(shape: AggregationShape): AggregationShape['metrics'] {
  return shape.metrics.filter(
    (m) => (m.metric.fn === 'sum' || m.metric.fn === 'count') && m.metric.params.length === 0,
  );
}
