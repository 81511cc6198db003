import path from 'node:path';
import { bundleWorkflowCode, DefaultLogger } from '@temporalio/worker';

/**
 * Bundling with Temporal's webpack setup fails on imports the workflow sandbox cannot load (Node built-ins,
 * I/O libraries), so this catches what the ESLint import restrictions might miss, e.g. transitive imports.
 */
/**
 * The package of each module webpack put in a bundle (`!*** <path> ***!` headers). The path may lead out of the
 * repository (`../main/node_modules/…` in a git worktree whose node_modules is a link).
 */
const PACKAGE_MODULE = /!\*\*\* \S*?node_modules\/((?:@[^/]+\/)?[^/]+)\//g;

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

  // The demo (examples/demo) is not the product: its workflows are served by the demo's worker only.
  it("holds none of the demo's workflows", () => {
    for (const demoWorkflow of [
      'seedDemoWorkflow',
      'pypiIngestionWorkflow',
      'preparePypiExampleWorkflow',
      'checkPypiExampleWorkflow',
      'preparePypiImportExampleWorkflow',
      'checkPypiImportExampleWorkflow',
    ]) {
      expect(code).not.toContain(demoWorkflow);
    }
    expect(code).not.toMatch(/!\*\*\* \S*examples\/demo\//);
  });

  // Every workflow run executes the modules it imports afresh (the worker's V8 context is shared, its module cache
  // is not): the input schemas' library built its schemas again for each of a backfill's thousands of partition
  // workflows, most of the workflow thread's time. Inputs are parsed at the edge (CLI, local activities) instead.
  it('carries no input-schema library, only the Temporal SDK and its own dependencies', () => {
    const packages = new Set([...code.matchAll(PACKAGE_MODULE)].map((m) => m[1]));
    expect(packages).not.toContain('zod');
    expect([...packages].sort()).toEqual(['@temporalio/common', '@temporalio/workflow', 'long', 'ms', 'nexus-rpc']);
  });
});

describe("the demo worker's workflow bundle", () => {
  let code: string;
  beforeAll(async () => {
    ({ code } = await bundleWorkflowCode({
      workflowsPath: path.resolve(__dirname, '..', '..', 'examples', 'demo', 'workflows', 'index.ts'),
      logger: new DefaultLogger('WARN'),
    }));
  }, 60_000);

  it("holds the product's workflows and the demo's, and of packages only the Temporal SDK's", () => {
    expect(code).toContain('backfillWorkflow');
    expect(code).toContain('seedDemoWorkflow');
    expect(code).toContain('pypiIngestionWorkflow');
    const packages = new Set([...code.matchAll(PACKAGE_MODULE)].map((m) => m[1]));
    expect([...packages].sort()).toEqual(['@temporalio/common', '@temporalio/workflow', 'long', 'ms', 'nexus-rpc']);
  });
});
