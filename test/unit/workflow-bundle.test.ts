import path from 'node:path';
import { bundleWorkflowCode, DefaultLogger } from '@temporalio/worker';

/**
 * Bundling with Temporal's webpack setup fails on imports the workflow sandbox cannot load (Node built-ins,
 * I/O libraries), so this catches what the ESLint import restrictions might miss, e.g. transitive imports.
 */
describe('workflow bundle', () => {
  let code: string;
  beforeAll(async () => {
    ({ code } = await bundleWorkflowCode({
      workflowsPath: path.resolve(__dirname, '..', '..', 'src', 'workflows', 'index.ts'),
      logger: new DefaultLogger('WARN'),
    }));
  }, 60_000);

  it('bundles src/workflows and exports backfillWorkflow', () => {
    expect(code.length).toBeGreaterThan(0);
    expect(code).toContain('backfillWorkflow');
  });

  // Every workflow run executes the modules it imports afresh (the worker's V8 context is shared, its module cache
  // is not): the input schemas' library built its schemas again for each of a backfill's thousands of partition
  // workflows, most of the workflow thread's time. Inputs are parsed at the edge (CLI, local activities) instead.
  it('carries no input-schema library, only the Temporal SDK and its own dependencies', () => {
    const packages = new Set([...code.matchAll(/!\*\*\* \.\/node_modules\/((?:@[^/]+\/)?[^/]+)\//g)].map((m) => m[1]));
    expect(packages).not.toContain('zod');
    expect([...packages].sort()).toEqual(['@temporalio/common', '@temporalio/workflow', 'long', 'ms', 'nexus-rpc']);
  });
});
