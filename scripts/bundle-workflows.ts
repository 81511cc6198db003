import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { bundleWorkflowCode, DefaultLogger } from '@temporalio/worker';
import { PREBUILT_BUNDLE_FILE } from '../src/worker/prebuilt-bundle';

/**
 * `npm run build`, second half: bundles the compiled workflow code (dist/workflows) once, with Temporal's webpack
 * set-up, into dist/workflow-bundle.js. The compiled worker loads that file instead of bundling at every start.
 */
async function main(): Promise<void> {
  const dist = path.resolve(__dirname, '..', 'dist');
  const { code } = await bundleWorkflowCode({
    workflowsPath: path.join(dist, 'workflows', 'index.js'),
    logger: new DefaultLogger('WARN'),
  });
  const file = path.join(dist, PREBUILT_BUNDLE_FILE);
  await writeFile(file, code);
  console.log(`workflow bundle: ${path.relative(process.cwd(), file)} (${(code.length / 1024).toFixed(0)} KiB)`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
