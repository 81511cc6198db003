import { existsSync } from 'node:fs';
import path from 'node:path';
import type { WorkflowBundleOption } from '@temporalio/worker';

/** The workflow bundle `npm run build` writes next to the compiled code: dist/workflow-bundle.js. */
export const PREBUILT_BUNDLE_FILE = 'workflow-bundle.js';

/**
 * The prebuilt workflow bundle of the compiled code this file belongs to, if `npm run build` wrote one.
 *
 * Compiled, this file is dist/worker/prebuilt-bundle.js and the bundle dist/workflow-bundle.js, built from the same
 * sources in the same build. Run from src/ (tsx, during development) there is no bundle next to the code, so the
 * worker bundles the current sources at start and never runs workflow code older than the activities beside it.
 */
export function prebuiltWorkflowBundle(
  codeDir: string = path.resolve(__dirname, '..'),
): WorkflowBundleOption | undefined {
  const codePath = path.join(codeDir, PREBUILT_BUNDLE_FILE);
  return existsSync(codePath) ? { codePath } : undefined;
}
