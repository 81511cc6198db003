import { readFileSync } from 'node:fs';
import path from 'node:path';
import { prometheusSeriesNames } from '../../src/shared/backfill-metrics';

const DASHBOARD = path.resolve(__dirname, '..', '..', 'ops', 'grafana', 'clickhouse-backfill.json');

interface Dashboard {
  panels: { title: string; datasource: { uid: string }; targets: { expr: string }[] }[];
  templating: { list: { name: string; type: string; query: string | { query: string } }[] };
}

const NOT_METRICS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'bool', 'and', 'or']);

/**
 * The metric names a PromQL expression selects: its identifiers once strings, label matchers, ranges, grouping
 * label lists and variables are taken out, leaving out functions (followed by `(`) and keywords. In
 * `label_values(metric, label)` (a Grafana variable's query) the metric is the first argument.
 */
function metricNames(expr: string): string[] {
  const labelValues = /^\s*label_values\(\s*([a-zA-Z_:][a-zA-Z0-9_:]*)/.exec(expr);
  if (labelValues) return [labelValues[1]];
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, '')
    .replace(/\[[^\]]*\]/g, '')
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, '')
    .replace(/\$\w+/g, '');
  return [...bare.matchAll(/[a-zA-Z_:][a-zA-Z0-9_:]*/g)]
    .filter(
      (m) =>
        !bare
          .slice(m.index + m[0].length)
          .trimStart()
          .startsWith('('),
    )
    .map((m) => m[0])
    .filter((name) => !NOT_METRICS.has(name));
}

const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as Dashboard;
const queries = [
  ...dashboard.panels.flatMap((p) => p.targets.map((t) => ({ where: p.title, expr: t.expr }))),
  ...dashboard.templating.list
    .filter((v) => v.type === 'query')
    .map((v) => ({ where: `variable ${v.name}`, expr: typeof v.query === 'string' ? v.query : v.query.query })),
];

describe('the Grafana dashboard (ops/grafana/clickhouse-backfill.json)', () => {
  it('reads the metric names of PromQL, leaving out functions, labels and keywords', () => {
    expect(
      metricNames(
        'histogram_quantile(0.95, sum by (le, step) (rate(ch_x_bucket{target=~"$target", a="b{c}"}[$__rate_interval])))',
      ),
    ).toEqual(['ch_x_bucket']);
    expect(metricNames('sum(a_total) / ignoring (reason) b_total or on() vector(0)')).toEqual(['a_total', 'b_total']);
    expect(metricNames('label_values(ch_y_total, target)')).toEqual(['ch_y_total']);
  });

  it("queries only metrics the worker exports, in every panel's and variable's query", () => {
    const exported = prometheusSeriesNames();
    const unknown = queries.flatMap(({ where, expr }) =>
      metricNames(expr)
        .filter((name) => !exported.includes(name))
        .map((name) => `${where}: ${name}`),
    );
    expect(queries.length).toBeGreaterThanOrEqual(dashboard.panels.length);
    expect(queries.every(({ expr }) => metricNames(expr).length > 0)).toBe(true);
    expect(unknown).toEqual([]);
  });

  it('has panels for partitions by state, rows/s, step durations, load pauses and validation failures', () => {
    const used = (name: string) => queries.some(({ expr }) => metricNames(expr).includes(name));
    for (const name of [
      'ch_backfill_steps_running',
      'ch_backfill_partitions_swapped_total',
      'ch_backfill_partitions_failed_total',
      'ch_backfill_rows_read_total',
      'ch_backfill_step_duration_seconds_bucket',
      'ch_backfill_load_paused_seconds_total',
      'ch_backfill_validation_failures_total',
    ]) {
      expect({ name, used: used(name) }).toEqual({ name, used: true });
    }
    expect(dashboard.panels.every((p) => p.datasource.uid === '${datasource}')).toBe(true);
  });
});
