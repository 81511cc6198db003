import { AsyncLocalStorage } from 'node:async_hooks';

/** Who sends a query: the workflow and the step (activity type, and the partition step within it). */
export interface QueryLabel {
  workflowId?: string;
  step: string;
}

const current = new AsyncLocalStorage<QueryLabel>();

/**
 * Runs `fn` with `label` as the label of every query it sends, so that each query's `log_comment` names the
 * workflow and step an operator looks for in `system.query_log`. A nested label keeps the outer workflow id.
 */
export function withQueryLabel<T>(label: QueryLabel, fn: () => T): T {
  const outer = current.getStore();
  return current.run({ workflowId: label.workflowId ?? outer?.workflowId, step: label.step }, fn);
}

/** The label of the step running now, or undefined outside any (CLI, tests). */
export function currentQueryLabel(): QueryLabel | undefined {
  return current.getStore();
}

/** The `log_comment` a query of the current step carries: JSON, read back with `JSONExtractString`. */
export function queryLogComment(): string | undefined {
  const label = current.getStore();
  return label ? JSON.stringify({ app: CLICKHOUSE_APPLICATION, ...label }) : undefined;
}

/** The `application` name every query over HTTP carries (its `http_user_agent` in `system.query_log`). */
export const CLICKHOUSE_APPLICATION = 'clickhouse-backfill';
