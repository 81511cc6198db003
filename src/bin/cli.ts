import { runCli } from '../cli';

runCli(process.argv).then((code) => process.exit(code));
