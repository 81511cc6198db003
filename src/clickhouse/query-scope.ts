import { AsyncLocalStorage } from 'node:async_hooks';
import type { NodeTableExpression } from '../sql/engine/query-tracking';

/** What the running step gives every query it sends, beyond its label (see query-label.ts). */
export interface QueryScope {
  /**
   * The activity's cancellation: every read of the step (`ch.rows`) is aborted with it unless it brings its own
   * signal, so `pause --now` stops a validation's reads as it stops the build's INSERT. Writes take a signal only
   * where their step passes one (an aborted write keeps running on a server; the build kills it by query id).
   */
  signal?: AbortSignal;
  /** Where a statement tracked by query id is followed: the step's server's processes and query log. */
  systemTable?: NodeTableExpression;
}

const current = new AsyncLocalStorage<QueryScope>();

/** Runs `fn` with `scope` for every query it sends. */
export function withQueryScope<T>(scope: QueryScope, fn: () => T): T {
  return current.run(scope, fn);
}

/** The scope of the step running now, or an empty one outside any (CLI, tests). */
export function currentQueryScope(): QueryScope {
  return current.getStore() ?? {};
}
