import js from '@eslint/js';
import svelte from 'eslint-plugin-svelte';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'release/', 'node_modules/', '.cache/', 'native/**/*.mjs'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  ...svelte.configs['flat/recommended'],
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      // only the Electron shell may import electron
      'no-restricted-imports': ['error', { paths: [{ name: 'electron', message: 'Only src-main/electron/* may import electron.' }] }],
    },
  },
  { files: ['src-main/electron/**'], rules: { 'no-restricted-imports': 'off' } },
  { files: ['src-renderer/**'], languageOptions: { globals: { ...globals.browser } } },
  // tests and benchmarks also run code inside the page (page.evaluate)
  { files: ['test/**'], languageOptions: { globals: { ...globals.node, ...globals.browser } } },
  {
    files: ['**/*.svelte', '**/*.svelte.ts'],
    languageOptions: { parserOptions: { parser: tseslint.parser, extraFileExtensions: ['.svelte'] }, globals: { ...globals.browser } },
  },
);
