/*
 * The demo worker's workflows entry file: the product's workflows and the demo's, bundled together by the demo's
 * worker (examples/demo/demo-worker.ts). The product's own entry, src/workflows/index.ts, holds none of the demo's.
 */
export * from '../../../src/workflows';
export { seedDemoWorkflow } from './seed-demo-workflow';
export {
  checkPypiExampleWorkflow,
  checkPypiImportExampleWorkflow,
  preparePypiExampleWorkflow,
  preparePypiImportExampleWorkflow,
  pypiIngestionWorkflow,
} from './pypi-example-workflows';
