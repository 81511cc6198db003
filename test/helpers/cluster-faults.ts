import { ClickHouseError } from '@clickhouse/client-common';
import type { ClickHouse, RunOptions } from '../../src/clickhouse/clickhouse';
import type { Statement } from '../../src/clickhouse/statement';
import type { LoadSample } from '../../src/shared/load-assessment';
import { scriptedClickHouse, type SentStatement } from './scripted-clickhouse';

/** A load sample of a calm cluster: the tests simulate the load check with it. */
export const quietLoad: LoadSample = {
  runningQueries: 0,
  maxQueryMemoryBytes: 0,
  activeMerges: 0,
  pendingMutations: 0,
  maxPartsPerPartition: 0,
  backgroundPoolTasks: 0,
  delayedInserts: 0,
  memoryTrackingBytes: 0,
};

/** A log that says nothing. */
export const quiet = { info: () => undefined, warn: () => undefined };

/** Whether a statement was sent as cluster DDL, whose answer is a status per host. */
export const isDdlStatus = (settings?: Record<string, unknown>) => settings?.distributed_ddl_output_mode !== undefined;

/** The per-host DDL status of the three replicas of `replicated-cluster` when `silent` has not answered in time. */
export const hostsAnswering = (silent: string) =>
  ['ch-node-1', 'ch-node-2', 'ch-node-3'].map((host) => ({ host, status: host === silent ? null : 0, error: '' }));

/**
 * What a cluster answers instead of the scripted answer while a fault lasts: rows (a per-host status, a replica's
 * rows), or an error thrown as the server's. `undefined`: the scripted answer.
 */
export type FaultAnswer = { rows: unknown[] } | { error: Error } | undefined;

/** A fault: looks at each statement as sent (with its settings) and may answer it otherwise. */
export type Fault = (statement: Statement, settings?: Record<string, unknown>) => FaultAnswer;

/** A ClickHouse server error as the client raises it (code and symbolic type). */
export function serverError(code: number, type: string, message: string): Error {
  return new ClickHouseError({ message, code: String(code), type });
}

/**
 * A replicated cluster that runs nothing (test/helpers/scripted-clickhouse.ts, every replica answering) with a
 * fault that can be switched on and off while a workflow runs: the real partition activities run against it, and
 * what they send is recorded in `sent` (a statement a fault answered with an error is recorded in `failed`).
 */
export function faultyCluster(partitionId: string) {
  const { ch: scripted, sent } = scriptedClickHouse(false, partitionId, 10);
  const failed: SentStatement[] = [];
  let fault: Fault | undefined;
  const faulted = (statement: Statement, via: 'rows' | 'exec', options?: RunOptions): unknown[] | undefined => {
    const answer = fault?.(statement, options?.settings);
    if (answer && 'error' in answer) {
      failed.push({ via, query: statement.query, params: statement.params, settings: options?.settings });
      throw answer.error;
    }
    return answer?.rows;
  };
  const ch: ClickHouse = {
    embedded: false,
    rows: async <T>(statement: Statement<T>, options?: RunOptions) => {
      const answer = faulted(statement, 'rows', options);
      if (answer) {
        sent.push({ via: 'rows', query: statement.query, params: statement.params, settings: options?.settings });
        return answer as T[];
      }
      return scripted.rows(statement, options);
    },
    exec: async (statement: Statement, options?: RunOptions) => {
      faulted(statement, 'exec', options);
      return scripted.exec(statement, options);
    },
    close: () => Promise.resolve(),
    get control() {
      return ch;
    },
  };
  return {
    ch,
    sent,
    failed,
    /** Switches `next` on (or every fault off with `undefined`). */
    set(next: Fault | undefined): void {
      fault = next;
    },
  };
}

/** The ledger rows the swaps wrote, by partition: only a swap that passed its checks writes one. */
export function ledgerWrites(sent: SentStatement[]): string[] {
  return sent.filter((s) => /^INSERT INTO \{ledger_db/.test(s.query)).map((s) => String(s.params.partition));
}
