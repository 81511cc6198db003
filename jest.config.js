// @ts-check
/**
 * Three Jest projects, selectable with `--selectProjects <name>`:
 * - unit: fast tests without servers,
 * - workflows: workflow tests against a local Temporal dev server,
 * - integration: end-to-end tests with Temporal and chDB.
 * TypeScript is transpiled per file by ts-jest (tsconfig has isolatedModules), type checking is `npm run typecheck`.
 */

/** @type {import('jest').Config} */
const base = {
  testEnvironment: 'node',
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.json' }] },
  moduleFileExtensions: ['ts', 'js', 'json'],
};

/** @type {import('jest').Config} */
module.exports = {
  projects: [
    { ...base, displayName: 'unit', testMatch: ['<rootDir>/test/unit/**/*.test.ts'] },
    { ...base, displayName: 'workflows', testMatch: ['<rootDir>/test/workflows/**/*.test.ts'] },
    { ...base, displayName: 'integration', testMatch: ['<rootDir>/test/integration/**/*.test.ts'] },
  ],
  // A global option (ignored per project): servers and real backfills need more than the default 5 s.
  testTimeout: 180_000,
};
