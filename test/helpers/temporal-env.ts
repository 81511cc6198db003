import { TestWorkflowEnvironment } from '@temporalio/testing';
import { BACKFILL_SEARCH_ATTRIBUTE_ARGS } from '../../src/temporal/backfill-search-attributes';
import { PRIORITY_DYNAMIC_CONFIG_ARGS } from '../../src/temporal/dev-server-task-priority';
import { THROUGHPUT_DYNAMIC_CONFIG_ARGS } from '../../src/temporal/dev-server-throughput';
import { findTemporalCli } from '../../src/temporal/temporal-cli-path';

/**
 * Starts an ephemeral Temporal dev server (in-memory, random free port) from the CLI found by
 * {@link findTemporalCli}, so tests never download a server, with the backfill search attributes registered and the
 * dev server's throughput and task-priority settings (src/temporal/dev-server-throughput.ts,
 * src/temporal/dev-server-task-priority.ts); later `extraArgs` override them. Call `teardown()` on the result in `afterAll`.
 *
 * @param extraArgs - Extra `temporal server start-dev` arguments, e.g.
 *   `['--dynamic-config-value', 'limit.historyCount.suggestContinueAsNew=50']` to make continue-as-new kick in early.
 * @param uiPort - Serve the Web UI on this port (none by default).
 * @returns The test environment (client, native connection, namespace `default`).
 */
export function createTestTemporal(extraArgs: string[] = [], uiPort?: number): Promise<TestWorkflowEnvironment> {
  return TestWorkflowEnvironment.createLocal({
    server: {
      executable: { type: 'existing-path', path: findTemporalCli() },
      ...(uiPort ? { ui: true, uiPort } : {}),
      extraArgs: [
        ...BACKFILL_SEARCH_ATTRIBUTE_ARGS,
        ...THROUGHPUT_DYNAMIC_CONFIG_ARGS,
        ...PRIORITY_DYNAMIC_CONFIG_ARGS,
        ...extraArgs,
      ],
    },
  });
}
