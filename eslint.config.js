// Lint rules that hold the layering (adapters sit on the contract; the POP3 core never loads
// the registry), forbid import cycles, and type-aware typescript-eslint checks.
import js from '@eslint/js';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';
import importX from 'eslint-plugin-import-x';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'test/run.mjs', 'eslint.config.js'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    plugins: { 'import-x': importX },
    // The TypeScript resolver maps the ESM `.js` specifiers to their `.ts` sources, and the
    // parser setting lets no-cycle read them (without either it silently sees no imports).
    settings: {
      ...importX.flatConfigs.typescript.settings,
      'import-x/resolver-next': [createTypeScriptImportResolver({ project: './tsconfig.json' })],
    },
    rules: {
      'import-x/no-cycle': ['error', { ignoreExternal: true }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      // Contract methods (close, open, commit, release) are async even where an implementation
      // has nothing to await: a synchronous throw then reaches the caller as the rejection it
      // awaits, instead of escaping past its try/catch.
      '@typescript-eslint/require-await': 'off',
    },
  },
  {
    // Adapters sit on the contract: they import it, adapters/shared, their own folder and npm
    // packages, never the gateway (src/).
    files: ['adapters/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ group: ['**/src/**', '../../src/*', '../../../src/*'], message: 'adapters may not import src/: use the contract or adapters/shared' }] },
      ],
    },
  },
  {
    // The POP3 core reaches backends only through the contract: loading it must load no adapter.
    files: ['src/pop3/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/adapters/index.js', '**/adapters/*/store.js', '**/adapters/*/descriptor.js'],
              message: 'the POP3 core may import only adapters/contract and adapters/shared',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['test/**/*.ts', 'bench/**/*.ts'],
    rules: {
      // node:test's describe/it return promises the runner awaits itself.
      '@typescript-eslint/no-floating-promises': 'off',
    },
  },
);
