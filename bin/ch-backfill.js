#!/usr/bin/env node
// The published entry: runs the TypeScript CLI through tsx's loader, so no build step is needed.
require('tsx/cjs');
require('../src/bin/cli.ts');
