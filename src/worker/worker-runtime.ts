import { Runtime, type MetricsExporterConfig } from '@temporalio/worker';
import { MetricName, STEP_DURATION_BUCKETS } from '../shared/backfill-metrics';
import { jsonRuntimeLogging } from './json-logger';

/**
 * The Prometheus exporter for `METRICS_PORT` (unset or empty: none), on every interface so a Prometheus elsewhere
 * can scrape `/metrics`. Counters end in `_total` and durations are in seconds, as Prometheus expects.
 *
 * @throws Error when `METRICS_PORT` is not a port number.
 */
export function metricsFromEnv(env: NodeJS.ProcessEnv = process.env): MetricsExporterConfig | undefined {
  const port = env.METRICS_PORT?.trim();
  if (!port) return undefined;
  if (!/^\d+$/.test(port) || Number(port) < 1 || Number(port) > 65535) {
    throw new Error(`METRICS_PORT must be a port number from 1 to 65535, not ${JSON.stringify(env.METRICS_PORT)}`);
  }
  return {
    prometheus: {
      bindAddress: `0.0.0.0:${port}`,
      countersTotalSuffix: true,
      useSecondsForDurations: true,
      histogramBucketOverrides: { [MetricName.stepDuration]: STEP_DURATION_BUCKETS },
    },
  };
}

/**
 * Installs this process's Temporal Runtime: JSON-line logs at `LOG_LEVEL` (see src/worker/json-logger.ts) and, with
 * `METRICS_PORT`, a Prometheus endpoint serving the SDK's metrics and ours (src/shared/backfill-metrics.ts), which
 * workflows and activities emit through the SDK's meter. Must run before anything creates the Runtime (a
 * connection or worker).
 */
export function installWorkerRuntime(
  env: NodeJS.ProcessEnv = process.env,
  write: (line: string) => void = (line) => void process.stdout.write(line),
): void {
  const { logger, logging } = jsonRuntimeLogging(env, write);
  const metrics = metricsFromEnv(env);
  Runtime.install({ logger, telemetryOptions: { logging, ...(metrics ? { metrics } : {}) } });
  if (metrics && 'prometheus' in metrics) {
    logger.info('Prometheus metrics served', { url: `http://${metrics.prometheus.bindAddress}/metrics` });
  }
}
