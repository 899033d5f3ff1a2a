// Lint rules that guard Temporal's contracts: no floating promises anywhere, and no Node built-ins,
// I/O libraries or clocks in workflow code (workflows must be deterministic and replayable).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import { builtinModules } from 'node:module';

export default tseslint.config(
  { ignores: ['node_modules', 'dist', '.longhaul', 'data', 'test-results'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false } }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': [
        'error',
        { prefer: 'type-imports', fixStyle: 'inline-type-imports' },
      ],
    },
  },
  {
    // Small CommonJS scripts run by node directly (bin/, scripts/).
    files: ['**/*.js'],
    languageOptions: {
      sourceType: 'commonjs',
      globals: {
        require: 'readonly',
        module: 'writable',
        process: 'readonly',
        console: 'readonly',
        __dirname: 'readonly',
      },
    },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    // Workflow code and everything it may import: the kit's workflow-safe modules (all of src/kit/ but
    // src/kit/activity/), src/shared/ (Node-only helpers live in src/node/), and in each API folder
    // (src/pipelines/<api>/) its top-level modules (definition, shared vocabulary) and its workflows/. An API
    // folder's activities/, connector/ and sandbox/ are Node code.
    files: [
      'src/kit/**/*.ts',
      'src/shared/**/*.ts',
      'src/pipelines/*.ts',
      'src/pipelines/*/*.ts',
      'src/pipelines/*/workflows/**/*.ts',
    ],
    // The Node side of the API list (src/pipelines/api.ts, apis.ts, index.ts and each folder's api.ts) registers
    // activities and sandboxes: Node code, never imported by workflows.
    ignores: [
      'src/kit/activity/**',
      'src/pipelines/api.ts',
      'src/pipelines/apis.ts',
      'src/pipelines/index.ts',
      'src/pipelines/*/api.ts',
    ],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            ...builtinModules.filter((m) => !m.startsWith('_')).flatMap((m) => [m, `node:${m}`]),
            'axios',
            '@duckdb/node-api',
            '@aws-sdk/client-s3',
            '@google-cloud/bigquery',
          ].map((name) => ({ name, message: 'Workflow code must be deterministic: do I/O in activities.' })),
          patterns: [
            {
              // Exception: <api>/connector/enums (pure zod enums shared by validation, connector and sandbox).
              group: [
                '**/activities/**',
                '**/activity/**',
                '**/connector/*',
                '!**/connector/enums',
                '**/sinks/**',
                '**/sandbox/**',
                '**/cli/**',
                '**/dev/**',
                '**/node/**',
                '**/config',
                // The Node side of the API list (it registers activities and sandboxes).
                '**/api',
                '**/apis',
              ],
              message: 'Workflows import activity and I/O modules as types only (import type).',
              allowTypeImports: true,
            },
          ],
        },
      ],
      'no-restricted-properties': [
        'error',
        { object: 'Math', property: 'random', message: 'Use workflow.uuid4() or a seeded PRNG.' },
        {
          object: 'Date',
          property: 'now',
          message: 'Use workflowNow() from workflows/common (workflow time, replay-safe).',
        },
      ],
    },
  },
);
