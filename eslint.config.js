// Lint rules: typescript-eslint's recommended set, type-aware where it catches real bugs (floating promises).
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'coverage/'] },
  ...tseslint.configs.recommended,
  {
    files: ['agent/**/*.ts', 'test/**/*.ts', 'bench/**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', ignoreRestSiblings: true }],
    },
  },
  {
    // The fleet and the workers it starts share one contract: the fleet reads the worker's side only through it, so
    // the two cannot drift apart (a re-implemented option parser once accepted what every worker refused).
    files: ['agent/fleet/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '^\\.\\./(?!contract/|util/|errors\\.ts$|log/logger\\.ts$)',
              message: 'agent/fleet/ may import only agent/contract/, agent/util/, errors.ts and log/logger.ts of the rest of the agent.',
            },
          ],
        },
      ],
    },
  },
);
