// @ts-check
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', '.bench-build/', '.kappa/', 'artifacts/', 'coverage/'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        projectService: { allowDefaultProject: ['*.js', 'bin/*.js', 'bin/dev/*.js', 'scripts/*.js'] },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      'no-console': 'error',
      eqeqeq: 'error',
      // kafkajs values come from src/kafka/kafkajs.ts, which fixes its read_committed filter first.
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: [
            {
              name: 'kafkajs',
              message: "Import kafkajs values from src/kafka/kafkajs.ts (it fixes kafkajs's read_committed filter).",
              allowTypeImports: true,
            },
          ],
        },
      ],
    },
  },
  { files: ['src/kafka/kafkajs.ts'], rules: { '@typescript-eslint/no-restricted-imports': 'off' } },
  {
    files: ['**/*.js'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: { globals: globals.node },
  },
  {
    // The dashboard's script runs in the browser, as plain JavaScript served from disk.
    files: ['src/api/dashboard/**/*.js'],
    languageOptions: { parserOptions: { projectService: false }, globals: { ...globals.browser, uPlot: 'readonly' } },
  },
);
