import path from 'node:path';
import { bundleWorkflowCode, DefaultLogger } from '@temporalio/worker';

/**
 * Bundling with Temporal's webpack setup fails on imports the workflow sandbox cannot load (Node built-ins,
 * I/O libraries), so this catches what the ESLint import restrictions might miss, e.g. transitive imports.
 */
describe('workflow bundle', () => {
  it('bundles src/workflows and exports backfillWorkflow', async () => {
    const { code } = await bundleWorkflowCode({
      workflowsPath: path.resolve(__dirname, '..', '..', 'src', 'workflows', 'index.ts'),
      logger: new DefaultLogger('WARN'),
    });
    expect(code.length).toBeGreaterThan(0);
    expect(code).toContain('backfillWorkflow');
  }, 60_000);
});
