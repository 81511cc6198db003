import { runCli } from '../cli';

// runCli never rejects: it prints every error as one line and returns the exit code.
void runCli(process.argv).then((code) => process.exit(code));
