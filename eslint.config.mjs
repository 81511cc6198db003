// @ts-check
import { builtinModules } from 'node:module';
import { defineConfig, globalIgnores } from 'eslint/config';
import tseslint from 'typescript-eslint';

/** Node built-ins, bare (`fs`, `fs/promises`, …) and `node:`-prefixed. */
const nodeBuiltins = {
  paths: builtinModules
    .filter((name) => !name.startsWith('_'))
    .map((name) => ({ name, message: 'Node built-ins are not allowed here (no I/O, must stay deterministic).' })),
  patterns: [{ regex: '^node:', message: 'Node built-ins are not allowed here (no I/O, must stay deterministic).' }],
};

/** Packages that perform I/O or only work outside the workflow sandbox. */
const ioLibraries = {
  message: 'I/O libraries are not allowed here; do I/O in activities (src/activities) instead.',
  regex: '^(@clickhouse/client|chdb|@temporalio/(client|worker|activity|testing)|cli-progress)(/.*)?$',
};

/**
 * Relative imports reaching into the I/O layers of `src/` (or of the demo's, examples/demo/, and from there into
 * src/'s); erased `import type` is fine.
 */
const ioLayers = {
  message: 'Only `import type` is allowed from the I/O layers (activities, clickhouse, temporal, cli).',
  regex: '^(\\.\\./)+(src/)?(activities|clickhouse|temporal|cli)(/.*)?$',
  allowTypeImports: true,
};

export default defineConfig(
  globalIgnores(['node_modules/', '.tools/', '.data/', 'coverage/', 'dist/']),
  tseslint.configs.recommended,
  {
    // Type information for the promise rules: a promise nobody awaits or handles is a lost error, and in workflow
    // code a step that silently runs out of order.
    files: ['**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
    },
  },
  {
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_' },
      ],
    },
  },
  {
    // A statement carries the type of its rows where its SQL is written (src/clickhouse/statement.ts): `rows`
    // infers it, and a type argument at the call would state it again, unchecked, far from the SQL.
    files: ['**/*.ts'],
    rules: {
      'no-restricted-syntax': [
        'error',
        ...[
          "CallExpression[callee.property.name='rows'][typeArguments]",
          "CallExpression[callee.name='rows'][typeArguments]",
        ].map((selector) => ({
          selector,
          message: 'No type argument on rows(): type the statement where its SQL is written (Statement<Row>).',
        })),
      ],
    },
  },
  {
    files: ['**/*.js', '**/*.cjs'],
    languageOptions: { sourceType: 'commonjs' },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    // Workflow code runs in Temporal's deterministic sandbox and is bundled with webpack (the demo's too).
    files: ['src/workflows/**/*.ts', 'examples/demo/workflows/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: nodeBuiltins.paths,
          patterns: [
            ...nodeBuiltins.patterns,
            ioLibraries,
            { ...ioLayers, message: `${ioLayers.message} Call activities through proxyActivities.` },
          ],
        },
      ],
    },
  },
  {
    // Shared code is imported by workflows, so it must be pure as well.
    files: ['src/shared/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: nodeBuiltins.paths,
          patterns: [
            ...nodeBuiltins.patterns,
            ioLibraries,
            ioLayers,
            // Shared code is what the other layers agree on: it renders no SQL, so src/sql may import it, not back.
            { regex: '^(\\.\\./)+sql(/.*)?$', message: 'src/shared imports nothing from src/sql (no SQL here).' },
          ],
        },
      ],
    },
  },
);
